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

// Defaults shared by the rows of the table below.
const (
	docMaxBytes         = 10 * mib
	videoMaxBytes       = 100 * mib
	maxPixels           = 40_000_000
	pdfMaxPages         = 20
	pdfMaxInflatedBytes = 32 * mib
)

var (
	documentTypes = []string{TypeJPEG, TypePNG, TypePDF}
	videoTypes    = []string{TypeMP4, TypeQuickTime}
)

// specs is THE rules table: every limit of the document check lives here.
//
// Clarity thresholds were set on synthetic scans (doccheckfixtures): a sharp
// text-like page scores in the thousands, the same page after a 9-px box
// blur scores well under 100. ID photos are small cards with less fine text
// than a license, so they get a slightly lower bar.
var specs = map[domain.DocType]Spec{
	domain.DocBusinessLicense: {
		ContentTypes: documentTypes, MaxBytes: docMaxBytes,
		MinShortSide: 800, MaxPixels: maxPixels, MinClarity: 100,
		MaxPages: pdfMaxPages, MaxInflatedBytes: pdfMaxInflatedBytes,
	},
	domain.DocLegalRepIDFront: {
		ContentTypes: documentTypes, MaxBytes: docMaxBytes,
		MinShortSide: 600, MaxPixels: maxPixels, MinClarity: 80,
		MaxPages: pdfMaxPages, MaxInflatedBytes: pdfMaxInflatedBytes,
	},
	domain.DocLegalRepIDBack: {
		ContentTypes: documentTypes, MaxBytes: docMaxBytes,
		MinShortSide: 600, MaxPixels: maxPixels, MinClarity: 80,
		MaxPages: pdfMaxPages, MaxInflatedBytes: pdfMaxInflatedBytes,
	},
	domain.DocAuthorizationLetter: {
		ContentTypes: documentTypes, MaxBytes: docMaxBytes,
		MinShortSide: 800, MaxPixels: maxPixels, MinClarity: 100,
		MaxPages: pdfMaxPages, MaxInflatedBytes: pdfMaxInflatedBytes,
	},
	domain.DocBankAccountProof: {
		ContentTypes: documentTypes, MaxBytes: docMaxBytes,
		MinShortSide: 600, MaxPixels: maxPixels, MinClarity: 100,
		MaxPages: pdfMaxPages, MaxInflatedBytes: pdfMaxInflatedBytes,
	},
	domain.DocRectificationProof: {
		ContentTypes: documentTypes, MaxBytes: docMaxBytes,
		MinShortSide: 600, MaxPixels: maxPixels, MinClarity: 100,
		MaxPages: pdfMaxPages, MaxInflatedBytes: pdfMaxInflatedBytes,
	},
	domain.DocOfficeVideo: {
		ContentTypes: videoTypes, MaxBytes: videoMaxBytes,
		MinVideoSeconds: 10,
	},
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
