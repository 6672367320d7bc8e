package doccheck

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"

	"microcert/shared/domain"
)

// Input describes the object to check.
type Input struct {
	DocType domain.DocType
	// DeclaredContentType is the Content-Type the upload was made with. It is
	// only compared with the real type, never trusted.
	DeclaredContentType string
	// Size is the object size from HeadObject (0 if unknown to Check).
	Size int64
}

// Result is the outcome of a check.
type Result struct {
	Passed bool
	// RealType is the sniffed content type (Type* constants), "" if unknown.
	RealType string
	// Findings explain every failure; empty when Passed.
	Findings []domain.Finding
	// Notes are observations for the reviewer that do not fail the check
	// (a PDF's links); only a passed document has them.
	Notes []domain.Finding
	// Metrics are measurements for reviewers and tuning: width, height,
	// clarity, brightness, lumaP01, lumaP99, pages, durationSeconds, bytes.
	Metrics map[string]float64
	// PHash is the perceptual hash of an image's picture (0 for PDFs,
	// videos, and images that could not be decoded), for finding the same
	// picture re-encoded, resized or cropped.
	PHash PHash
	// PHashProbes are the index keys to find similar pictures by.
	PHashProbes Probes
	// SHA256 is the hex digest of the whole content, for reuse detection. It
	// is "" when the content was not read to its end: after CheckSize fails,
	// or when the stream is longer than the spec's MaxBytes (reading stops
	// there).
	SHA256 string
}

// Codes lists the finding codes of r in order, handy for logs and tests.
func (r Result) Codes() []string {
	codes := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		codes[i] = f.Code
	}
	return codes
}

func (r *Result) add(f domain.Finding) { r.Findings = append(r.Findings, f) }

func (r *Result) finish() {
	r.Passed = len(r.Findings) == 0
}

// CheckSize is the cheap first step, on the size from HeadObject: ok is false
// (and res a failed result) when the object is empty or over the limit, in
// which case the body need not be read at all.
func CheckSize(in Input) (res Result, ok bool) {
	spec := SpecFor(in.DocType)
	res.Metrics = map[string]float64{"bytes": float64(in.Size)}
	switch {
	case !spec.Known():
		res.add(findUnknownDocType(in.DocType))
	case in.Size <= 0:
		res.add(findEmpty())
	case in.Size > spec.MaxBytes:
		res.add(findTooLarge(spec.MaxBytes))
	}
	res.finish()
	return res, res.Passed
}

// readBufSize is the buffer between the caller's reader and the parsers. It
// bounds how much is read ahead of a rejection (a bomb PNG is refused after
// at most one buffer).
const readBufSize = 32 * kib

// Check reads r once, to its end, hashing everything with SHA-256, and checks
// the content against the limits of in.DocType. It reads at most MaxBytes+1
// bytes. Memory stays bounded: buffers are fixed, media data and stream
// data are streamed through, PDF inflation is capped by MaxInflatedBytes, and
// the one unavoidable cost, an image's decoded pixels, is capped from the
// header by MaxPixels and MaxDecodeBytes before decoding starts.
//
// The error is non-nil only when r itself fails (the caller should retry);
// everything wrong with the content is a finding in the result.
func Check(in Input, r io.Reader) (Result, error) {
	return check(in, SpecFor(in.DocType), r)
}

// check is Check with the limits given, so fuzzing can use small ones.
func check(in Input, spec Spec, r io.Reader) (Result, error) {
	res := Result{Metrics: map[string]float64{}}
	if !spec.Known() {
		// Still read and hash: the caller may want the digest regardless.
		spec.MaxBytes = SpecFor(domain.DocOfficeVideo).MaxBytes
		res.add(findUnknownDocType(in.DocType))
	}
	src := newSource(r, spec.MaxBytes)
	br := bufio.NewReaderSize(src, readBufSize)

	head, _ := br.Peek(SniffLen)
	res.RealType = Sniff(head)
	if spec.Known() && checkType(&res, spec, in.DeclaredContentType, len(head)) {
		switch res.RealType {
		case TypeJPEG, TypePNG:
			checkImage(&res, spec, br)
		case TypePDF:
			checkPDF(&res, spec, br, in.Size)
		case TypeMP4, TypeQuickTime:
			checkVideo(&res, spec, br)
		}
	}
	// Read the rest so the digest covers the whole content, whatever the
	// parser stopped at.
	_, _ = io.Copy(io.Discard, br)
	if src.err != nil {
		return Result{}, src.err
	}
	if src.n > spec.MaxBytes {
		// The parsers saw a cut-off file: what they found would only
		// confuse. Only the size matters now.
		res.Findings = res.Findings[:0]
		if !spec.Known() {
			res.add(findUnknownDocType(in.DocType))
		}
		res.add(findTooLarge(spec.MaxBytes))
		res.Metrics = map[string]float64{}
		res.PHash, res.PHashProbes = PHash{}, Probes{}
	} else {
		res.SHA256 = hex.EncodeToString(src.h.Sum(nil))
	}
	res.Metrics["bytes"] = float64(src.n)
	res.finish()
	return res, nil
}

// checkType compares the sniffed type with what the document type allows and
// with what was declared. It reports whether the content checks should run:
// they do even on a declared-type mismatch, so the applicant hears about
// every problem at once.
func checkType(res *Result, spec Spec, declared string, headLen int) bool {
	if headLen == 0 {
		res.add(findEmpty())
		return false
	}
	if res.RealType == "" {
		res.add(findUnsupportedType(spec.ContentTypes))
		return false
	}
	allowed := spec.Allows(res.RealType)
	if !allowed {
		res.add(findTypeNotAllowed(res.RealType, spec.ContentTypes))
	}
	if d := normalizeDeclared(declared); d != res.RealType {
		res.add(findTypeMismatch(res.RealType, declared))
	}
	return allowed
}

// source is the one reader over the caller's stream: it hashes and counts
// every byte, stops after max+1 bytes (so an endless stream cannot keep us
// reading), and remembers the first real I/O error so that a parser's
// "unexpected EOF" can be told apart from a broken connection.
type source struct {
	r   io.Reader
	h   hash.Hash
	n   int64 // bytes read so far
	max int64
	err error // first error from r other than io.EOF
}

func newSource(r io.Reader, max int64) *source {
	return &source{r: r, h: sha256.New(), max: max}
}

func (s *source) Read(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	if left := s.max + 1 - s.n; left <= 0 {
		return 0, io.EOF
	} else if int64(len(p)) > left {
		p = p[:left]
	}
	n, err := s.r.Read(p)
	if n > 0 {
		s.h.Write(p[:n])
		s.n += int64(n)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}
