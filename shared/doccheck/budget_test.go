package doccheck

import (
	"bytes"
	"image/jpeg"
	"runtime"
	"testing"
	"time"

	"microcert/shared/domain"
)

// The budget of Check on a JPEG, against a plain jpeg.Decode of the same
// file: at most 1.1x the bytes allocated and 1.2x the time. Allocation does
// not depend on the machine, so TestDecodeBudget holds it on every run;
// time does, so BenchmarkDecodeBudget measures it and make bench judges it.

// decodeBudget runs Check and a plain jpeg.Decode of the 8 MP bench JPEG,
// alternating runs times, and returns the fastest time and the bytes of
// each (the minimum is what survives noise from other processes best).
func decodeBudget(tb testing.TB, runs int) (check, plain time.Duration, checkBytes, plainBytes uint64) {
	data := benchJPEG()
	in := Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG, Size: int64(len(data))}
	measure := func(f func() error) (time.Duration, uint64) {
		runtime.GC()
		before := totalAlloc()
		start := time.Now()
		if err := f(); err != nil {
			tb.Fatal(err)
		}
		return time.Since(start), totalAlloc() - before
	}
	runCheck := func() error {
		if res, err := Check(in, bytes.NewReader(data)); err != nil || !res.Passed {
			tb.Fatalf("Check = %v, %v", res.Codes(), err)
		}
		return nil
	}
	runPlain := func() error {
		_, err := jpeg.Decode(bytes.NewReader(data))
		return err
	}
	check, plain = 1<<62, 1<<62
	for range runs {
		d, a := measure(runCheck)
		check, checkBytes = min(check, d), a
		d, a = measure(runPlain)
		plain, plainBytes = min(plain, d), a
	}
	return check, plain, checkBytes, plainBytes
}

// TestDecodeBudget holds Check of a JPEG to at most 1.1x the bytes a plain
// jpeg.Decode of the same file allocates.
func TestDecodeBudget(t *testing.T) {
	_, _, checkBytes, plainBytes := decodeBudget(t, 1)
	ratio := float64(checkBytes) / float64(plainBytes)
	t.Logf("Check %d B; jpeg.Decode %d B; bytes x%.3f", checkBytes, plainBytes, ratio)
	if ratio > 1.1 {
		t.Errorf("Check allocates x%.3f of jpeg.Decode, budget x1.1", ratio)
	}
}

// BenchmarkDecodeBudget reports Check's time and bytes as multiples of a
// plain jpeg.Decode's (fastest of 7 alternating runs each, per iteration);
// make bench judges them against 1.2x and 1.1x.
func BenchmarkDecodeBudget(b *testing.B) {
	var timeX, bytesX float64
	for b.Loop() {
		check, plain, checkBytes, plainBytes := decodeBudget(b, 7)
		timeX = max(timeX, float64(check)/float64(plain))
		bytesX = max(bytesX, float64(checkBytes)/float64(plainBytes))
	}
	b.ReportMetric(timeX, "time-x")
	b.ReportMetric(bytesX, "bytes-x")
}
