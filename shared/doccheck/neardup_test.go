package doccheck

import (
	"bytes"
	"image"
	"slices"
	"testing"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// Near-duplicate detection is measured as the upload check uses it: a
// copy is found when one of its probe keys equals the original's band
// (the indexed lookup) and the fine distance is at most
// NearDuplicateDistance. Originals are distinct licences of one layout
// (fx.LicenceImage), the hardest case for false positives.

// copyTransform makes a reused copy of an original (its pixels and its
// JPEG file).
type copyTransform struct {
	name string
	make func(img *image.RGBA, jpg []byte) []byte
}

var copyTransforms = []copyTransform{
	{"jpeg-quality-50", func(img *image.RGBA, _ []byte) []byte { return fx.EncodeJPEG(img, 50) }},
	{"jpeg-quality-95", func(img *image.RGBA, _ []byte) []byte { return fx.EncodeJPEG(img, 95) }},
	{"png", func(img *image.RGBA, _ []byte) []byte { return fx.EncodePNG(img) }},
	{"greyscale", func(img *image.RGBA, _ []byte) []byte { return fx.EncodeJPEG(fx.Grey(img), 85) }},
	{"resize-50%", resizeBy(50)},
	{"resize-75%", resizeBy(75)},
	{"resize-150%", resizeBy(150)},
	{"resize-200%", resizeBy(200)},
	{"crop-2%", cropBy(0.02)},
	{"crop-5%", cropBy(0.05)},
	{cropIntoContent, cropBy(0.10)},
	{"appended-bytes", func(_ *image.RGBA, jpg []byte) []byte { return append(bytes.Clone(jpg), "\r\n1234567890"...) }},
	{"metadata-changed", func(_ *image.RGBA, jpg []byte) []byte { return fx.WithJPEGComment(jpg, "Edited with PhotoEditor 2.1") }},
}

// cropIntoContent cuts 10% off, which reaches the title bar: measured, not
// promised.
const cropIntoContent = "crop-10%-into-content"

func resizeBy(pct int) func(*image.RGBA, []byte) []byte {
	return func(img *image.RGBA, _ []byte) []byte {
		b := img.Bounds()
		return fx.EncodeJPEG(fx.Resize(img, b.Dx()*pct/100, b.Dy()*pct/100), 85)
	}
}

func cropBy(f float64) func(*image.RGBA, []byte) []byte {
	return func(img *image.RGBA, _ []byte) []byte { return fx.EncodeJPEG(fx.CropMargins(img, f), 85) }
}

// hashed is one checked picture.
type hashed struct {
	h      PHash
	probes Probes
}

func hashPicture(tb testing.TB, data []byte) hashed {
	tb.Helper()
	// An ID card's limits: resized copies down to 50% stay checkable.
	res, err := Check(Input{DocType: domain.DocLegalRepIDFront, DeclaredContentType: Sniff(data)}, bytes.NewReader(data))
	if err != nil || res.PHash.IsZero() {
		tb.Fatalf("no hash: %v %v", res.Codes(), err)
	}
	return hashed{res.PHash, res.PHashProbes}
}

// found reports whether looking up q finds stored s, and at what distance.
func found(s, q hashed) (bool, int) {
	d := s.h.Distance(q.h)
	return bandHit(s, q) && d <= NearDuplicateDistance, d
}

type nearDupStats struct {
	detected, tried map[string]int
	maxDistance     map[string]int
	pairs, falsePos int
	candidates      int // distinct pairs the band lookup returns
	minDistinct     int
}

// studyNearDuplicates checks copies of `copies` originals made by every
// transform, and all pairs among `distinct` distinct originals.
func studyNearDuplicates(tb testing.TB, copies, distinct, w, h int) nearDupStats {
	st := nearDupStats{detected: map[string]int{}, tried: map[string]int{}, maxDistance: map[string]int{}, minDistinct: 1 << 30}
	var originals []hashed
	for i := range max(copies, distinct) {
		img := fx.LicenceImage(uint64(i), w, h)
		jpg := fx.EncodeJPEG(img, 85)
		orig := hashPicture(tb, jpg)
		originals = append(originals, orig)
		if i >= copies {
			continue
		}
		for _, tr := range copyTransforms {
			ok, d := found(orig, hashPicture(tb, tr.make(img, jpg)))
			st.tried[tr.name]++
			st.maxDistance[tr.name] = max(st.maxDistance[tr.name], d)
			if ok {
				st.detected[tr.name]++
			}
		}
	}
	for i := range distinct {
		for j := range distinct {
			if i == j {
				continue
			}
			ok, d := found(originals[i], originals[j])
			st.pairs++
			st.minDistinct = min(st.minDistinct, d)
			if ok {
				st.falsePos++
			}
			if bandHit(originals[i], originals[j]) {
				st.candidates++
			}
		}
	}
	return st
}

// bandHit reports whether one of q's probe keys is s's band: whether the
// indexed lookup returns s as a candidate.
func bandHit(s, q hashed) bool {
	bands := s.h.Bands()
	for b, keys := range q.probes {
		if slices.Contains(keys, bands[b]) {
			return true
		}
	}
	return false
}

// TestNearDuplicates is the small version of BenchmarkNearDuplicates:
// every copy but the crop into the content is found, and no two distinct
// licences are taken for copies.
func TestNearDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("checks about 40 generated images")
	}
	st := studyNearDuplicates(t, 2, 8, 1600, 1200)
	for _, tr := range copyTransforms {
		if tr.name == cropIntoContent {
			continue
		}
		if st.detected[tr.name] != st.tried[tr.name] {
			t.Errorf("%s: %d of %d found (max distance %d)", tr.name, st.detected[tr.name], st.tried[tr.name], st.maxDistance[tr.name])
		}
	}
	if st.falsePos != 0 {
		t.Errorf("%d of %d distinct pairs taken for copies (closest %d)", st.falsePos, st.pairs, st.minDistinct)
	}
}

// BenchmarkNearDuplicates measures detection of every kind of copy on 20
// originals and false positives among 100 distinct licences (9,900
// ordered lookups), for BENCHMARKS.md.
func BenchmarkNearDuplicates(b *testing.B) {
	copies, distinct := 20, 100
	if testing.Short() {
		copies, distinct = 1, 3
	}
	for b.Loop() {
		st := studyNearDuplicates(b, copies, distinct, 2000, 1500)
		// Units name the transform, so the report needs no list of its own.
		for _, tr := range copyTransforms {
			b.ReportMetric(100*float64(st.detected[tr.name])/float64(st.tried[tr.name]), "found-%/"+tr.name)
			b.ReportMetric(float64(st.maxDistance[tr.name]), "max-distance/"+tr.name)
		}
		b.ReportMetric(100*float64(st.falsePos)/float64(st.pairs), "false-pos-%")
		b.ReportMetric(float64(st.pairs), "distinct-pairs")
		b.ReportMetric(float64(st.minDistinct), "min-distinct-distance")
		b.ReportMetric(100*float64(st.candidates)/float64(st.pairs), "candidate-%")
	}
}
