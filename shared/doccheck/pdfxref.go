package doccheck

import (
	"bytes"
	"errors"
	"sort"
)

// A PDF is read the way a reader reads it: from "startxref" at the end to
// the newest cross-reference section (a table or a stream), then each older
// one through /Prev (and /XRefStm in hybrid files), the newest entry for an
// object winning; objects come from their offsets or from inside object
// streams. When that chain is broken, readers rebuild the table by scanning
// the file for "num gen obj" headers (the last one of a number wins), and
// so does pdfDoc.

// pdfLoc is where an object's newest definition is.
type pdfLoc struct {
	offset int64 // in the file (inObjStm < 0)
	// inObjStm is the number of the object stream holding it, and index
	// its position there; -1 for objects at an offset.
	inObjStm int64
	index    int64
}

const (
	// maxXrefSections bounds the /Prev chain (incremental updates); a loop
	// is caught by the visited set, a very long chain by this.
	maxXrefSections = 1024
	// maxPDFObjects bounds the objects of one file (10 MB of the smallest
	// possible objects is about a million); beyond it the file is refused.
	maxPDFObjects = 1 << 20
	// maxXrefEntries bounds /Size and /Index of a cross-reference section.
	maxXrefEntries = maxPDFObjects
)

var errPDFTooManyObjects = errors.New("doccheck: too many PDF objects")

// pdfDoc is one PDF file, parsed on demand.
type pdfDoc struct {
	b       []byte
	xref    map[int64]pdfLoc // the reader's table (from the chain or rebuilt)
	trailer pdfDict          // newest trailer
	// trailers are every trailer dictionary seen, newest first.
	trailers []pdfDict
	// repaired is set when the table had to be rebuilt from a file scan.
	repaired bool
	// headers are every "num gen obj" header in the file, in file order.
	headers []pdfHeader

	budget int64 // inflation left (bytes)
	// objStms are the decoded object streams by the offset of the stream
	// object (two streams may carry the same number in different updates).
	objStms   map[int64]*objStm
	overLimit bool // an object stream inflated past the budget
	undecoded bool // an object stream used a filter we lack
	damaged   bool // an object stream's header was unusable
}

type pdfHeader struct {
	num    int64
	offset int64 // of the header's first digit
}

// objStm is a decoded object stream: its data and where each object starts.
type objStm struct {
	data  []byte
	nums  []int64
	offs  []int64
	first int64
}

func newPDFDoc(b []byte, inflationBudget int64) (*pdfDoc, error) {
	d := &pdfDoc{b: b, budget: inflationBudget, objStms: map[int64]*objStm{}}
	if err := d.scanHeaders(); err != nil {
		return nil, err
	}
	if !d.readXrefChain() || d.root() == nil {
		d.rebuild()
	}
	return d, nil
}

// scanHeaders finds every object header in the file, wherever it is:
// objects a repairing reader would find, and objects inside other objects'
// stream data that a cross-reference entry may point to.
func (d *pdfDoc) scanHeaders() error {
	b := d.b
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte("obj"))
		if i < 0 {
			return nil
		}
		i += off
		off = i + 3
		if i+3 < len(b) && !isPDFWhite(b[i+3]) && !isPDFDelim(b[i+3]) {
			continue
		}
		start, ok := objHeaderStart(b, i)
		if !ok {
			continue
		}
		num, _ := parsePDFInt(b[start : bytes.IndexFunc(b[start:], func(r rune) bool { return !isDigit(byte(r)) })+start])
		if len(d.headers) >= maxPDFObjects {
			return errPDFTooManyObjects
		}
		d.headers = append(d.headers, pdfHeader{num: num, offset: int64(start)})
	}
}

// objHeaderStart reports whether the "obj" at b[i] ends an object header
// "num gen obj" that starts a token, and where the header starts.
func objHeaderStart(b []byte, i int) (int, bool) {
	j := i
	for _, part := range []func(byte) bool{isPDFWhite, isDigit, isPDFWhite, isDigit} {
		k := j
		for k > 0 && part(b[k-1]) && j-k < 20 {
			k--
		}
		if k == j {
			return 0, false
		}
		j = k
	}
	return j, j == 0 || isPDFWhite(b[j-1]) || isPDFDelim(b[j-1])
}

// startxref returns the offset after the last "startxref" near the end.
func (d *pdfDoc) startxref() (int64, bool) {
	tail := d.b[max(0, len(d.b)-pdfTailLen):]
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, false
	}
	p := &pdfParser{b: tail, pos: i + len("startxref")}
	p.skipSpace()
	return parsePDFInt(p.token())
}

// readXrefChain follows startxref and /Prev. It reports false when the
// chain is broken anywhere, which sends readers to rebuild the table.
func (d *pdfDoc) readXrefChain() bool {
	d.xref = map[int64]pdfLoc{}
	off, ok := d.startxref()
	if !ok {
		return false
	}
	seen := map[int64]bool{}
	for n := 0; ; n++ {
		if n >= maxXrefSections || seen[off] || off < 0 || off >= int64(len(d.b)) {
			return false
		}
		seen[off] = true
		trailer, ok := d.readSection(off)
		if !ok {
			return false
		}
		d.trailers = append(d.trailers, trailer)
		if d.trailer == nil {
			d.trailer = trailer
		}
		prev, hasPrev := trailer.get("Prev").(int64)
		if !hasPrev {
			return true
		}
		off = prev
	}
}

// readSection reads the cross-reference section at off (a table, with its
// hybrid /XRefStm, or a stream) into d.xref without overriding newer
// entries, and returns its trailer.
func (d *pdfDoc) readSection(off int64) (pdfDict, bool) {
	p := &pdfParser{b: d.b, pos: int(off)}
	p.skipSpace()
	if p.atKeyword("xref") {
		p.pos += len("xref")
		trailer, ok := d.readTable(p)
		if !ok {
			return nil, false
		}
		// A hybrid file's stream section holds the objects only a PDF 1.5
		// reader sees (in object streams); they rank just below this table.
		if xs, ok := trailer.get("XRefStm").(int64); ok && xs >= 0 && xs < int64(len(d.b)) {
			if _, ok := d.readXrefStream(xs); !ok {
				return nil, false
			}
		}
		return trailer, true
	}
	return d.readXrefStream(off)
}

func (d *pdfDoc) readTable(p *pdfParser) (pdfDict, bool) {
	for {
		p.skipSpace()
		if p.atKeyword("trailer") {
			p.pos += len("trailer")
			v, err := p.value()
			t, ok := v.(pdfDict)
			return t, err == nil && ok
		}
		first, ok1 := parsePDFInt(p.token())
		p.skipSpace()
		count, ok2 := parsePDFInt(p.token())
		if !ok1 || !ok2 || first < 0 || count < 0 || first+count > maxXrefEntries {
			return nil, false
		}
		for i := int64(0); i < count; i++ {
			p.skipSpace()
			o, ok1 := parsePDFInt(p.token())
			p.skipSpace()
			_, ok2 := parsePDFInt(p.token())
			p.skipSpace()
			kind := p.token()
			if !ok1 || !ok2 || len(kind) != 1 || (kind[0] != 'n' && kind[0] != 'f') {
				return nil, false
			}
			num := first + i
			if _, newer := d.xref[num]; newer {
				continue
			}
			if kind[0] == 'f' {
				// A free entry still hides older definitions of the number.
				d.xref[num] = pdfLoc{offset: -1, inObjStm: -1}
				continue
			}
			d.xref[num] = pdfLoc{offset: o, inObjStm: -1}
		}
		if len(d.xref) > maxPDFObjects {
			return nil, false
		}
	}
}

// readXrefStream reads a cross-reference stream at off.
func (d *pdfDoc) readXrefStream(off int64) (pdfDict, bool) {
	v, ok := d.parseAt(off, true)
	s, isStream := v.(*pdfStream)
	if !ok || !isStream {
		return nil, false
	}
	if t, _ := s.dict.get("Type").(pdfName); t != "XRef" {
		return nil, false
	}
	w, _ := s.dict.get("W").(pdfArray)
	if len(w) != 3 {
		return nil, false
	}
	var widths [3]int
	for i, x := range w {
		n, ok := x.(int64)
		if !ok || n < 0 || n > 8 {
			return nil, false
		}
		widths[i] = int(n)
	}
	size, _ := s.dict.int("Size")
	index := pdfArray{int64(0), size}
	if ix, ok := s.dict.get("Index").(pdfArray); ok {
		index = ix
	}
	data, err := d.decode(s)
	if err != nil {
		return nil, false
	}
	rowLen := widths[0] + widths[1] + widths[2]
	if rowLen == 0 {
		return nil, false
	}
	row := 0
	for i := 0; i+1 < len(index); i += 2 {
		first, ok1 := index[i].(int64)
		count, ok2 := index[i+1].(int64)
		if !ok1 || !ok2 || first < 0 || count < 0 || first+count > maxXrefEntries {
			return nil, false
		}
		for k := int64(0); k < count; k++ {
			if (row+1)*rowLen > len(data) {
				return s.dict, true // short data: what is there counts
			}
			f := data[row*rowLen : (row+1)*rowLen]
			row++
			typ := int64(1) // the type field defaults to 1 when absent
			if widths[0] > 0 {
				typ = beInt(f[:widths[0]])
			}
			a := beInt(f[widths[0] : widths[0]+widths[1]])
			c := beInt(f[widths[0]+widths[1]:])
			num := first + k
			if _, newer := d.xref[num]; newer {
				continue
			}
			switch typ {
			case 0:
				d.xref[num] = pdfLoc{offset: -1, inObjStm: -1}
			case 1:
				d.xref[num] = pdfLoc{offset: a, inObjStm: -1}
			case 2:
				d.xref[num] = pdfLoc{inObjStm: a, index: c}
			}
		}
	}
	return s.dict, len(d.xref) <= maxPDFObjects
}

func beInt(b []byte) int64 {
	var v int64
	for _, c := range b {
		v = v<<8 | int64(c)
	}
	return v
}

// rebuild makes the table from the headers found in the file, as readers
// do with a broken file: the last definition of each number wins, objects
// in object streams count when no header defines them, and the trailer is
// the last one found (a "trailer" dictionary or a cross-reference stream).
func (d *pdfDoc) rebuild() {
	d.repaired = true
	d.xref = map[int64]pdfLoc{}
	for _, h := range d.headers {
		d.xref[h.num] = pdfLoc{offset: h.offset, inObjStm: -1}
	}
	for _, h := range d.headers {
		v, _ := d.parseAt(h.offset, false)
		s, ok := v.(*pdfStream)
		if !ok {
			continue
		}
		if t, _ := s.dict.get("Type").(pdfName); t == "XRef" {
			d.trailers = append([]pdfDict{s.dict}, d.trailers...)
			continue
		}
		if st := d.objStm(h.offset, s); st != nil {
			for i, num := range st.nums {
				if _, defined := d.xref[num]; !defined {
					d.xref[num] = pdfLoc{inObjStm: h.num, index: int64(i)}
				}
			}
		}
	}
	for off := 0; ; {
		i := bytes.Index(d.b[off:], []byte("trailer"))
		if i < 0 {
			break
		}
		off += i + len("trailer")
		p := &pdfParser{b: d.b, pos: off}
		if v, _ := p.value(); v != nil {
			if t, ok := v.(pdfDict); ok {
				d.trailers = append([]pdfDict{t}, d.trailers...)
			}
		}
	}
	d.trailer = nil
	for _, t := range d.trailers {
		if t.has("Root") {
			d.trailer = t
			break
		}
	}
}

// root is the document catalog from the trailer's /Root; without one, a
// rebuilt file falls back to the last object of /Type /Catalog.
func (d *pdfDoc) root() pdfDict {
	if d.trailer != nil {
		if c, ok := d.resolve(d.trailer.get("Root")).(pdfDict); ok {
			return c
		}
	}
	if !d.repaired {
		return nil
	}
	for i := len(d.headers) - 1; i >= 0; i-- {
		v, _ := d.parseAt(d.headers[i].offset, false)
		if c, ok := v.(pdfDict); ok {
			if t, _ := c.get("Type").(pdfName); t == "Catalog" {
				return c
			}
		}
	}
	return nil
}

// encrypted reports whether any trailer names an /Encrypt dictionary.
func (d *pdfDoc) encrypted() bool {
	for _, t := range d.trailers {
		if t.get("Encrypt") != nil {
			return true
		}
	}
	return false
}

// parseAt parses the indirect object whose header is at off. direct means
// only a direct /Length counts (cross-reference streams, read before the
// table exists); otherwise an indirect /Length is resolved through the
// table.
func (d *pdfDoc) parseAt(off int64, direct bool) (any, bool) {
	return d.parseAtDepth(off, direct, 0)
}

func (d *pdfDoc) parseAtDepth(off int64, direct bool, depth int) (any, bool) {
	if off < 0 || off >= int64(len(d.b)) {
		return nil, false
	}
	p := &pdfParser{b: d.b, pos: int(off)}
	if _, ok := p.objectHeader(); !ok {
		return nil, false
	}
	length := func(v any) (int64, bool) {
		if r, ok := v.(pdfRef); ok && !direct {
			v = d.resolveDepth(r, depth+1)
		}
		n, ok := v.(int64)
		return n, ok
	}
	v, err := p.object(length)
	return v, err == nil || v != nil
}

// resolve follows references to a direct value (nil for a missing object).
func (d *pdfDoc) resolve(v any) any { return d.resolveDepth(v, 0) }

// maxRefChain bounds "1 0 obj 2 0 R endobj 2 0 obj 1 0 R endobj" loops.
const maxRefChain = 16

func (d *pdfDoc) resolveDepth(v any, depth int) any {
	for ; depth < maxRefChain; depth++ {
		r, ok := v.(pdfRef)
		if !ok {
			return v
		}
		v = d.object(r.num, depth)
	}
	return nil
}

// object returns object num as the table has it.
func (d *pdfDoc) object(num int64, depth int) any {
	loc, ok := d.xref[num]
	if !ok {
		return nil
	}
	if loc.inObjStm < 0 {
		if loc.offset < 0 {
			return nil // free
		}
		v, _ := d.parseAtLenient(loc.offset, depth)
		return v
	}
	st := d.objStmByNum(loc.inObjStm)
	if st == nil {
		return nil
	}
	v, _ := st.object(loc.index)
	return v
}

// parseAtLenient parses at an offset from the table, which writers get
// slightly wrong (off by the end-of-line): readers then look for the
// header close by.
func (d *pdfDoc) parseAtLenient(off int64, depth int) (any, bool) {
	if depth > maxRefChain {
		return nil, false
	}
	if v, ok := d.parseAtDepth(off, false, depth); ok {
		return v, true
	}
	i := sort.Search(len(d.headers), func(i int) bool { return d.headers[i].offset >= off-4 })
	if i < len(d.headers) && d.headers[i].offset <= off+4 {
		return d.parseAtDepth(d.headers[i].offset, false, depth)
	}
	return nil, false
}

// objStmByNum returns the object stream the table calls num, decoding it
// once.
func (d *pdfDoc) objStmByNum(num int64) *objStm {
	loc, ok := d.xref[num]
	if !ok || loc.inObjStm >= 0 || loc.offset < 0 {
		return nil
	}
	if st, ok := d.objStms[loc.offset]; ok {
		return st
	}
	v, _ := d.parseAtLenient(loc.offset, 0)
	s, isStream := v.(*pdfStream)
	if !isStream {
		d.objStms[loc.offset] = nil
		return nil
	}
	return d.objStm(loc.offset, s)
}

// objStm decodes stream s, the object at offset off, as an object stream
// within the inflation budget; nil when it is none or cannot be decoded
// (the reason is recorded).
func (d *pdfDoc) objStm(off int64, s *pdfStream) *objStm {
	if st, ok := d.objStms[off]; ok {
		return st
	}
	d.objStms[off] = nil
	n, ok1 := s.dict.int("N")
	first, ok2 := s.dict.int("First")
	if !ok1 || !ok2 {
		return nil
	}
	data, err := d.decode(s)
	if err != nil {
		return nil
	}
	if n < 0 || n > maxPDFObjects || first < 0 || first > int64(len(data)) {
		d.damaged = true
		return nil
	}
	st := &objStm{data: data, first: first}
	p := &pdfParser{b: data[:first]}
	for i := int64(0); i < n; i++ {
		p.skipSpace()
		num, ok1 := parsePDFInt(p.token())
		p.skipSpace()
		off, ok2 := parsePDFInt(p.token())
		if !ok1 || !ok2 || num < 0 || off < 0 {
			break
		}
		st.nums = append(st.nums, num)
		st.offs = append(st.offs, off)
	}
	if len(st.nums) == 0 && n > 0 {
		d.damaged = true
	}
	d.objStms[off] = st
	return st
}

// decode decodes a structural stream within the inflation budget.
func (d *pdfDoc) decode(s *pdfStream) ([]byte, error) {
	out, err := decodeStream(s, max(0, d.budget))
	switch {
	case errors.Is(err, errPDFInflation):
		d.overLimit = true
	case err != nil:
		d.undecoded = true
	default:
		d.budget -= int64(len(out))
	}
	return out, err
}

// object returns the i-th object of the stream (objects inside an object
// stream have no header and cannot be streams).
func (st *objStm) object(i int64) (any, bool) {
	if i < 0 || i >= int64(len(st.offs)) {
		return nil, false
	}
	start := st.first + st.offs[i]
	if start < 0 || start > int64(len(st.data)) {
		return nil, false
	}
	p := &pdfParser{b: st.data, pos: int(start)}
	v, err := p.value()
	return v, err == nil
}
