package optimistic

import (
	"context"
	"errors"
	"testing"
	"time"

	"microcert/shared/domain"
)

func TestRetry(t *testing.T) {
	fast := Policy{Attempts: 4, Base: time.Microsecond, Max: 10 * time.Microsecond}
	other := errors.New("boom")
	tests := []struct {
		name      string
		results   []error // what each cycle returns; the last repeats
		wantCalls int
		wantCode  string
		wantErr   error
	}{
		{"first try", []error{nil}, 1, "", nil},
		{"someone else wrote twice, then it applies", []error{domain.ErrVersionConflict, domain.ErrVersionConflict, nil}, 3, "", nil},
		{"bounded", []error{domain.ErrVersionConflict}, 4, "version_conflict", nil},
		{"a stale pinned version is answered at once", []error{Stale(7)}, 1, "version_conflict", nil},
		{"other conflicts are final", []error{domain.E(domain.KindConflict, "case_already_open", "", "")}, 1, "case_already_open", nil},
		{"other errors are final", []error{other}, 1, "", other},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			err := fast.Retry(context.Background(), func(context.Context) error {
				r := tt.results[min(calls, len(tt.results)-1)]
				calls++
				return r
			})
			if calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if got := domain.CodeOf(err); got != tt.wantCode {
				t.Errorf("code = %q, want %q (err %v)", got, tt.wantCode, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// A stale pinned version says which version is current.
func TestStaleCarriesCurrentVersion(t *testing.T) {
	err := Default.Retry(context.Background(), func(context.Context) error { return Stale(12) })
	var de *domain.Error
	if !errors.As(err, &de) {
		t.Fatalf("err = %#v", err)
	}
	if v, ok := de.Detail("currentVersion"); !ok || v != 12 {
		t.Fatalf("currentVersion detail %v, %v", v, ok)
	}
}

// A cancelled context ends the retries with the last conflict.
func TestRetryStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	err := Policy{Attempts: 100, Base: time.Hour, Max: time.Hour}.Retry(ctx, func(context.Context) error {
		calls++
		cancel()
		return domain.ErrVersionConflict
	})
	if calls != 1 || !IsConflict(err) {
		t.Fatalf("calls %d err %v", calls, err)
	}
}
