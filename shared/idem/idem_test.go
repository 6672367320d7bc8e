package idem

import (
	"context"
	"errors"
	"testing"
)

func TestAfterWrite(t *testing.T) {
	failure := errors.New("write failed")
	tests := []struct {
		name     string
		deferral bool
		hold     bool
		writeErr error
		// ranBeforeWrite, ranAfterWrite: when the action has run.
		ranBeforeWrite, ranAfterWrite bool
	}{
		{name: "no deferral: at once", ranBeforeWrite: true, ranAfterWrite: true},
		{name: "nothing held: at once", deferral: true, ranBeforeWrite: true, ranAfterWrite: true},
		{name: "held: after its write", deferral: true, hold: true, ranAfterWrite: true},
		{name: "held, write failed: never", deferral: true, hold: true, writeErr: failure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			var d *Deferral
			if tt.deferral {
				d = &Deferral{}
				ctx = WithDeferral(ctx, d)
			}
			written := false
			if tt.hold && !d.Hold(func(context.Context, *Response) error { written = true; return tt.writeErr }) {
				t.Fatal("Hold refused")
			}
			ran, ranAfterWritten := 0, false
			AfterWrite(ctx, func(context.Context) { ran++; ranAfterWritten = written })
			if got := ran == 1; got != tt.ranBeforeWrite {
				t.Fatalf("ran before the write: %v, want %v", got, tt.ranBeforeWrite)
			}
			if err := d.Write(ctx, &Response{Status: 200}); !errors.Is(err, tt.writeErr) {
				t.Fatalf("Write: %v, want %v", err, tt.writeErr)
			}
			if got := ran == 1; got != tt.ranAfterWrite {
				t.Fatalf("ran after the write: %v (%d times), want %v", got, ran, tt.ranAfterWrite)
			}
			if tt.hold && ran == 1 && !ranAfterWritten {
				t.Fatal("the action ran before the held change was written")
			}
			if err := d.Write(ctx, nil); err != nil || ran > 1 {
				t.Fatalf("a second Write: %v, action ran %d times", err, ran)
			}
		})
	}
}
