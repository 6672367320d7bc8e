package doccheck

import (
	"bytes"
	"image/jpeg"
	"runtime"
	"testing"
	"time"

	"microcert/shared/domain"
)

// TestDecodeBudget holds Check of a JPEG to its budget against a plain
// jpeg.Decode of the same file: at most 1.1x the bytes allocated and 1.2x the
// time. Times are the minimum over alternating runs, which is what survives
// noise from other processes best. Under -short it is skipped.
func TestDecodeBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes an 8 MP JPEG 14 times")
	}
	data := benchJPEG()
	in := Input{DocType: domain.DocBusinessLicense, DeclaredContentType: TypeJPEG, Size: int64(len(data))}
	check := func() {
		if res, err := Check(in, bytes.NewReader(data)); err != nil || !res.Passed {
			t.Fatalf("Check = %v, %v", res.Codes(), err)
		}
	}
	plain := func() {
		if _, err := jpeg.Decode(bytes.NewReader(data)); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(f func()) (time.Duration, uint64) {
		runtime.GC()
		before := totalAlloc()
		start := time.Now()
		f()
		return time.Since(start), totalAlloc() - before
	}

	// A real regression fails every attempt; a burst of load from other
	// processes rarely spoils three in a row.
	const attempts, runs = 3, 7
	var timeRatio, allocRatio float64
	for range attempts {
		var minCheck, minPlain time.Duration = 1 << 62, 1 << 62
		var allocCheck, allocPlain uint64
		for range runs {
			d, a := measure(check)
			minCheck, allocCheck = min(minCheck, d), a
			d, a = measure(plain)
			minPlain, allocPlain = min(minPlain, d), a
		}
		timeRatio = float64(minCheck) / float64(minPlain)
		allocRatio = float64(allocCheck) / float64(allocPlain)
		t.Logf("Check %v, %d B; jpeg.Decode %v, %d B; time x%.3f, bytes x%.3f",
			minCheck, allocCheck, minPlain, allocPlain, timeRatio, allocRatio)
		if timeRatio <= 1.2 || raceEnabled {
			break
		}
	}
	if allocRatio > 1.1 {
		t.Errorf("Check allocates x%.3f of jpeg.Decode, budget x1.1", allocRatio)
	}
	if timeRatio > 1.2 && !raceEnabled {
		t.Errorf("Check takes x%.3f of jpeg.Decode, budget x1.2", timeRatio)
	}
}
