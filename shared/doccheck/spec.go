package doccheck

import (
	"slices"

	"microcert/shared/domain"
)

// Real content types the engine recognises (see Sniff).
const (
	TypeJPEG      = "image/jpeg"
	TypePNG       = "image/png"
	TypePDF       = "application/pdf"
	TypeMP4       = "video/mp4"
	TypeQuickTime = "video/quicktime"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// Spec is the limits of one document type. The API uses the same values for
// the presigned upload (content types, content-length-range), so the upload
// policy and the check can never disagree.
type Spec struct {
	DocType domain.DocType
	// ContentTypes are the real (sniffed) types accepted, in preference order.
	ContentTypes []string
	// MaxBytes is the largest object accepted (bytes).
	MaxBytes int64
	// MinShortSide is the least number of pixels on an image's shorter side:
	// below it the text on the document is not legible to a reviewer.
	MinShortSide int
	// MaxPixels caps width*height. Checked from the header before decoding,
	// because decoding allocates about 1.5-8 bytes per pixel.
	MaxPixels int64
	// MaxDecodeBytes caps the memory a decode may take, estimated from the
	// header: pixels times what the decoder allocates per pixel, 1 byte
	// (grey) to 8 (16-bit RGBA PNG), plus 4 per sample for a progressive
	// JPEG (the decoder keeps every DCT coefficient), doubled for an
	// interlaced PNG. It keeps a 10 KB hostile file from costing a Lambda
	// 600 MB; size the function's memory well above it.
	MaxDecodeBytes int64
	// MinClarity is the least variance of the Laplacian of the downscaled grey
	// image (see clarity.go); lower means blurry.
	MinClarity float64
	// MaxPages caps the page count of a PDF.
	MaxPages int
	// MaxInflatedBytes caps how much compressed PDF object-stream data is
	// inflated for scanning, which defeats zip bombs; a PDF needing more is
	// refused as unscannable rather than passed unchecked.
	MaxInflatedBytes int64
	// MinVideoSeconds is the least duration of a video.
	MinVideoSeconds float64
}

// Known reports whether s is the spec of a known document type (SpecFor
// returns the zero Spec otherwise).
func (s Spec) Known() bool { return s.DocType != "" }

// Allows reports whether the real content type ct is accepted.
func (s Spec) Allows(ct string) bool { return slices.Contains(s.ContentTypes, ct) }

// specs is THE rules table: every limit of the document check lives here.
//
// Clarity thresholds were set on synthetic scans (doccheckfixtures): a sharp
// text-like page scores in the thousands, the same page after a 9-px box
// blur about 50. ID cards carry larger print than a license and are
// photographed smaller, so they get a lower bar on both size and clarity.
var specs = map[domain.DocType]Spec{
	domain.DocBusinessLicense:     document(800, 100),
	domain.DocLegalRepIDFront:     document(600, 80),
	domain.DocLegalRepIDBack:      document(600, 80),
	domain.DocAuthorizationLetter: document(800, 100),
	domain.DocBankAccountProof:    document(600, 100),
	domain.DocRectificationProof:  document(600, 100),
	domain.DocOfficeVideo: {
		ContentTypes:    []string{TypeMP4, TypeQuickTime},
		MaxBytes:        100 * mib,
		MinVideoSeconds: 10,
	},
}

// document is a row for a paper document, uploaded as a photo, scan or PDF.
// Only the minimum short side and clarity vary between documents.
func document(minShortSide int, minClarity float64) Spec {
	return Spec{
		ContentTypes:     []string{TypeJPEG, TypePNG, TypePDF},
		MaxBytes:         10 * mib,
		MinShortSide:     minShortSide,
		MaxPixels:        40_000_000,
		MaxDecodeBytes:   256 * mib,
		MinClarity:       minClarity,
		MaxPages:         20,
		MaxInflatedBytes: 32 * mib,
	}
}

// SpecFor returns the limits of document type t, or the zero Spec (Known
// false, nothing allowed) for an unknown type. The result is a copy: callers
// may not change the table through it.
func SpecFor(t domain.DocType) Spec {
	s, ok := specs[t]
	if !ok {
		return Spec{}
	}
	s.DocType = t
	s.ContentTypes = slices.Clone(s.ContentTypes)
	return s
}

// Exposure limits shared by every image document, on the 0-255 grey plane
// (clarity.go). A clean scan is mostly white paper, so a bright mean alone is
// normal: an image is overexposed only when even its darkest 1% is light
// grey, i.e. the text itself is washed out. Likewise it is too dark only when
// the mean is dark and there are no bright highlights either (a well-lit
// card on a dark desk is fine).
const (
	darkMeanBelow   = 50
	darkP99Below    = 128
	brightMeanAbove = 230
	brightP01Above  = 150
)
