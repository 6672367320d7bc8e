package doccheck

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"io"
	"slices"
	"sort"
)

// pdfDanger are the names that make a PDF do something by itself when it is
// opened or clicked: scripts, automatic actions, launching programs, carrying
// other files, Flash/3D and XFA forms. A reviewer's viewer must never run
// them, so any of them fails the check. Matching is on the decoded name, so
// "/J#61vaScript" is "/JavaScript".
var pdfDanger = map[string]bool{
	"/JavaScript":    true,
	"/JS":            true,
	"/OpenAction":    true,
	"/AA":            true,
	"/Launch":        true,
	"/EmbeddedFile":  true,
	"/EmbeddedFiles": true,
	"/RichMedia":     true,
	"/XFA":           true,
}

const (
	// pdfTailLen is how far from the end "startxref" and "%%EOF" must be;
	// readers tolerate about this much garbage after the last %%EOF.
	pdfTailLen = 1024
	// maxPDFName is PDF's own limit on name length; a longer name cannot be
	// any of those we look for.
	maxPDFName = 127
	maxPDFTok  = 32
	// maxPageObjs caps the set used to count distinct page objects.
	maxPageObjs = 10_000
	// maxObjStmHeader caps the object numbers kept per object stream.
	maxObjStmHeader = 100_000
)

// pdfScan collects what the lexers find in one PDF.
type pdfScan struct {
	spec        Spec
	pageObjs    map[int64]struct{} // distinct page objects by object number
	anon        int64              // keys for page objects without a number
	active      []string
	encrypted   bool
	unscannable bool // an object stream we could not (or would not) inflate
	corrupt     bool // structure or compressed data is damaged
	inflated    int64
}

// checkPDF validates a PDF read from br: a sane header, a trailer at the end,
// no encryption, no active content (also inside compressed object streams),
// and a page count within the limit. The file is read once, token by token,
// so names split between two reads are still seen whole.
//
// Stream contents are skipped, except object streams, which hold objects and
// are inflated (within Spec.MaxInflatedBytes in total) and lexed in turn.
// Other streams hold pixels, fonts and drawing operators: lexing those would
// only find names by chance in binary data.
func checkPDF(res *Result, spec Spec, br *bufio.Reader) {
	sc := &pdfScan{spec: spec, pageObjs: map[int64]struct{}{}}
	head, _ := br.Peek(16)
	if !validPDFHeader(head) {
		sc.corrupt = true
	}
	tail := &tailKeeper{r: br}
	lx := newPDFLexer(bufio.NewReaderSize(tail, readBufSize), sc)
	_ = lx.run() // an I/O error is reported by Check
	if !tail.hasTrailer() {
		sc.corrupt = true
	}
	pages := len(sc.pageObjs)
	res.Metrics["pages"] = float64(pages)
	if sc.encrypted {
		// Encrypted streams cannot be inflated and pages may hide in them:
		// only the password matters to the applicant now.
		res.add(findPDFEncrypted())
	} else if sc.corrupt || pages == 0 {
		res.add(findUnreadable(TypePDF))
	}
	if len(sc.active) > 0 {
		slices.Sort(sc.active)
		res.add(findPDFActive(sc.active))
	}
	if pages > spec.MaxPages {
		res.add(findPDFTooManyPages(pages, spec.MaxPages))
	}
	if sc.unscannable && !sc.encrypted {
		res.add(findPDFUnscannable())
	}
}

// validPDFHeader accepts "%PDF-1.0" to "%PDF-1.7" and "%PDF-2.0", ending the
// line.
func validPDFHeader(h []byte) bool {
	if len(h) < 9 || !bytes.HasPrefix(h, magicPDF) {
		return false
	}
	v := h[5:8]
	ok := (v[0] == '1' && v[1] == '.' && v[2] >= '0' && v[2] <= '7') || string(v) == "2.0"
	return ok && isPDFWhite(h[8])
}

func (sc *pdfScan) name(n []byte) {
	if pdfDanger[string(n)] && !slices.Contains(sc.active, string(n)) {
		sc.active = append(sc.active, string(n))
	}
	if string(n) == "/Encrypt" {
		sc.encrypted = true
	}
}

func (sc *pdfScan) addPage(num int64, known bool) {
	if !known {
		sc.anon--
		num = sc.anon
	}
	// Past the cap the verdict is settled (too many pages); stop growing.
	if len(sc.pageObjs) < maxPageObjs {
		sc.pageObjs[num] = struct{}{}
	}
}

// pdfKey is a dictionary key whose value the lexer needs.
type pdfKey uint8

const (
	keyNone pdfKey = iota
	keyType
	keyFilter
	keyN
	keyFirst
)

// pdfObj is what the lexer knows of the object it is in.
type pdfObj struct {
	num         int64 // from "num gen obj"; -1 if unknown
	isObjStm    bool  // /Type /ObjStm
	hasN        bool  // /N and /First also mark an object stream
	hasFirst    bool
	n, first    int64
	filters     int
	flate       bool // one of the filters is /FlateDecode
	otherFilter bool
	decodeParms bool
}

func (o *pdfObj) objStm() bool { return o.isObjStm || (o.hasN && o.hasFirst) }

// pdfLexer splits PDF syntax into tokens, keeping just enough context to
// count pages, recognise object streams and find dangerous names. It never
// fails on bad syntax: hostile files get the most lenient reading, since a
// viewer would be lenient too.
type pdfLexer struct {
	br  *bufio.Reader
	sc  *pdfScan
	obj pdfObj
	// index is set when lexing the content of an object stream.
	index *objStmIndex

	key           pdfKey // previous token, if it was a key we track
	inFilterArray bool
	int1, int2    int64 // the last two integers, int2 the latest
	nInts         int   // length of the current run of integers

	name  [maxPDFName + 1]byte
	tok   [maxPDFTok]byte
	watch headerWatch
}

func newPDFLexer(br *bufio.Reader, sc *pdfScan) *pdfLexer {
	return &pdfLexer{br: br, sc: sc, obj: pdfObj{num: -1}}
}

// run lexes to the end of the input. It returns only read errors.
func (lx *pdfLexer) run() error {
	for {
		c, err := lx.br.ReadByte()
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		switch c {
		case 0, '\t', '\n', '\f', '\r', ' ':
			// Separators; they do not break "/Type /Page" or "1 0 obj".
		case '%':
			lx.skipComment()
		case '/':
			lx.readName()
		case '(':
			lx.skipString()
			lx.other()
		case '<':
			if p, _ := lx.br.Peek(1); len(p) == 1 && p[0] == '<' {
				lx.br.Discard(1)
			} else {
				lx.skipHexString()
			}
			lx.other()
		case '[':
			lx.inFilterArray = lx.key == keyFilter
			lx.other()
		case ']':
			lx.inFilterArray = false
			lx.other()
		case '>':
			if p, _ := lx.br.Peek(1); len(p) == 1 && p[0] == '>' {
				lx.br.Discard(1)
			}
			lx.other()
		case ')', '{', '}':
			lx.other()
		default:
			lx.readRegular(c)
		}
	}
}

// other records a token that carries no meaning for us.
func (lx *pdfLexer) other() {
	lx.key = keyNone
	lx.nInts = 0
}

// Literal strings and comments are text, but a viewer that follows an xref
// offset into one would read an object there; an unbalanced "(" could hide
// the rest of the file. So, as in stream data, an object header ("12 0 obj")
// inside them ends them, and lexing resumes in that object.

func (lx *pdfLexer) skipComment() {
	lx.watch.reset()
	for {
		c, err := lx.br.ReadByte()
		if err != nil || c == '\n' || c == '\r' || lx.sawHeader(c) {
			return
		}
	}
}

// skipHexString skips a hex string. Only hex digits and white space belong
// in one; anything else ends it and is lexed as syntax, so an unterminated
// "<" cannot hide what follows.
func (lx *pdfLexer) skipHexString() {
	for {
		c, err := lx.br.ReadByte()
		if err != nil || c == '>' {
			return
		}
		if !isHex(c) && !isPDFWhite(c) {
			lx.br.UnreadByte()
			return
		}
	}
}

// skipString skips a literal string: balanced parentheses, backslash
// escapes. Names inside strings are text, not names.
func (lx *pdfLexer) skipString() {
	lx.watch.reset()
	depth := 1
	for {
		c, err := lx.br.ReadByte()
		if err != nil || lx.sawHeader(c) {
			return
		}
		switch c {
		case '\\':
			if _, err := lx.br.ReadByte(); err != nil {
				return
			}
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return
			}
		}
	}
}

// sawHeader feeds one skipped byte to the watch and reports whether it
// completed an object header; if so the lexer is put inside that object.
func (lx *pdfLexer) sawHeader(c byte) bool {
	num, ok := lx.watch.push(c)
	if ok {
		lx.other()
		lx.obj = pdfObj{num: num}
	}
	return ok
}

// headerWatch remembers the last bytes skipped as text, to spot "num gen
// obj" in them.
type headerWatch struct {
	buf [48]byte
	n   int
}

func (w *headerWatch) reset() { w.n = 0 }

func (w *headerWatch) push(c byte) (int64, bool) {
	if w.n == len(w.buf) {
		copy(w.buf[:], w.buf[len(w.buf)/2:])
		w.n = len(w.buf) / 2
	}
	w.buf[w.n] = c
	w.n++
	b := w.buf[:w.n]
	if c != 'j' || !bytes.HasSuffix(b, kwObj) {
		return 0, false
	}
	start, ok := objHeaderStart(b, len(b)-3, ' ')
	if !ok {
		return 0, false
	}
	end := start
	for end < len(b) && isDigit(b[end]) {
		end++
	}
	num, _ := parsePDFInt(b[start:end])
	return num, true
}

// readName reads a name after its '/', decoding #xx escapes as a viewer
// does.
func (lx *pdfLexer) readName() {
	lx.name[0] = '/'
	n, long := 1, false
	for {
		c, err := lx.br.ReadByte()
		if err != nil {
			break
		}
		if isPDFWhite(c) || isPDFDelim(c) {
			lx.br.UnreadByte()
			break
		}
		if c == '#' {
			if h, err := lx.br.Peek(2); err == nil && isHex(h[0]) && isHex(h[1]) {
				c = unhex(h[0])<<4 | unhex(h[1])
				lx.br.Discard(2)
			}
		}
		if n < len(lx.name) {
			lx.name[n] = c
			n++
		} else {
			long = true
		}
	}
	if long {
		lx.other()
		return
	}
	lx.onName(lx.name[:n])
}

func (lx *pdfLexer) onName(nm []byte) {
	lx.sc.name(nm)
	prev := lx.key
	lx.key, lx.nInts = keyNone, 0
	switch {
	case prev == keyType && string(nm) == "/Page":
		lx.sc.addPage(lx.pageNum())
	case prev == keyType && string(nm) == "/ObjStm":
		lx.obj.isObjStm = true
	case prev == keyFilter || lx.inFilterArray:
		lx.obj.filters++
		if string(nm) == "/FlateDecode" || string(nm) == "/Fl" {
			lx.obj.flate = true
		} else {
			lx.obj.otherFilter = true
		}
	}
	switch string(nm) {
	case "/Type":
		lx.key = keyType
	case "/Filter":
		lx.key = keyFilter
	case "/N":
		lx.key = keyN
	case "/First":
		lx.key = keyFirst
	case "/DecodeParms":
		lx.obj.decodeParms = true
	}
}

// pageNum is the object number of the page object being lexed, if known.
func (lx *pdfLexer) pageNum() (int64, bool) {
	if lx.index != nil {
		return lx.index.objAt(lx.index.pos())
	}
	return lx.obj.num, lx.obj.num >= 0
}

// readRegular reads a number or keyword starting with c.
func (lx *pdfLexer) readRegular(c byte) {
	lx.tok[0] = c
	n, long := 1, false
	for {
		c, err := lx.br.ReadByte()
		if err != nil {
			break
		}
		if isPDFWhite(c) || isPDFDelim(c) {
			lx.br.UnreadByte()
			break
		}
		if n < len(lx.tok) {
			lx.tok[n] = c
			n++
		} else {
			long = true
		}
	}
	if long {
		lx.other()
		return
	}
	if v, ok := parsePDFInt(lx.tok[:n]); ok {
		lx.onInt(v)
		return
	}
	lx.onKeyword(lx.tok[:n])
}

func (lx *pdfLexer) onInt(v int64) {
	switch {
	case lx.key == keyFilter || lx.inFilterArray:
		// A filter given by reference: we cannot tell what it is.
		lx.obj.otherFilter = true
	case lx.key == keyN:
		lx.obj.n, lx.obj.hasN = v, true
	case lx.key == keyFirst:
		lx.obj.first, lx.obj.hasFirst = v, true
	}
	lx.key = keyNone
	lx.int1, lx.int2 = lx.int2, v
	lx.nInts++
	if ix := lx.index; ix != nil && len(ix.header) < ix.want {
		ix.header = append(ix.header, v)
	}
}

func (lx *pdfLexer) onKeyword(kw []byte) {
	switch string(kw) {
	case "obj":
		lx.obj = pdfObj{num: -1}
		if lx.nInts >= 2 {
			lx.obj.num = lx.int1
		}
	case "endobj":
		lx.obj = pdfObj{num: -1}
	case "stream":
		// Objects inside an object stream cannot be streams; a "stream"
		// there is junk and is lexed like the rest.
		if lx.index == nil {
			lx.readStream()
		}
	}
	lx.other()
}

// readStream skips the data of a stream, lexing it when it is an object
// stream.
func (lx *pdfLexer) readStream() {
	// The keyword is followed by CRLF or LF (a lone CR is tolerated).
	if p, _ := lx.br.Peek(2); len(p) > 0 {
		switch {
		case p[0] == '\r' && len(p) == 2 && p[1] == '\n':
			lx.br.Discard(2)
		case p[0] == '\r' || p[0] == '\n':
			lx.br.Discard(1)
		}
	}
	body := &streamBody{br: lx.br, last: '\n'}
	if lx.obj.objStm() {
		lx.scanObjStm(body)
	}
	_, _ = io.Copy(io.Discard, body)
	num := lx.obj.num
	lx.obj = pdfObj{num: num}
}

// scanObjStm inflates an object stream and lexes the objects in it. Only
// /FlateDecode without predictors is supported, which is what writers use;
// anything else is refused as unscannable rather than passed unchecked.
func (lx *pdfLexer) scanObjStm(body io.Reader) {
	sc, o := lx.sc, lx.obj
	if o.otherFilter || o.filters > 1 || o.decodeParms {
		sc.unscannable = true
		return
	}
	left := sc.spec.MaxInflatedBytes - sc.inflated
	if left <= 0 {
		sc.unscannable = true
		return
	}
	var r io.Reader = body
	if o.flate {
		zr, err := zlib.NewReader(body)
		if err != nil {
			sc.corrupt = true
			return
		}
		defer zr.Close()
		r = zr
	}
	// The limit is what defeats a zip bomb: a few KB can inflate to GBs.
	cr := &countingReader{r: io.LimitReader(r, left+1)}
	nb := bufio.NewReaderSize(cr, 4*kib)
	ix := &objStmIndex{first: o.first}
	if o.n > 0 && o.n <= maxObjStmHeader/2 {
		ix.want = int(2 * o.n)
	}
	ix.pos = func() int64 { return cr.n - int64(nb.Buffered()) }
	nested := newPDFLexer(nb, sc)
	nested.index = ix
	err := nested.run()
	sc.inflated += cr.n
	switch {
	case cr.n > left:
		sc.unscannable = true
	case err != nil:
		sc.corrupt = true // bad deflate data or checksum
	}
}

// objStmIndex maps a position in an object stream's content to the number
// of the object there, from the stream's header of "num offset" pairs, so
// that a page object stored twice (incremental updates) counts once.
type objStmIndex struct {
	want   int     // header integers expected (2 per object)
	header []int64 // num1 off1 num2 off2 ...
	first  int64   // where the first object starts
	pos    func() int64
}

func (ix *objStmIndex) objAt(pos int64) (int64, bool) {
	rel := pos - ix.first
	pairs := len(ix.header) / 2
	if rel < 0 || pairs == 0 || len(ix.header) < ix.want {
		return 0, false
	}
	// Offsets are increasing (ISO 32000-1, 7.5.7); the object is the last one
	// starting at or before rel.
	i := sort.Search(pairs, func(i int) bool { return ix.header[2*i+1] > rel }) - 1
	if i < 0 {
		return 0, false
	}
	return ix.header[2*i], true
}

// streamBody reads the data of a stream up to the "endstream" keyword. The
// /Length entry is not trusted: it may be an indirect reference, or wrong on
// purpose. Stopping at the first "endstream" errs on the safe side: data
// that merely contains the keyword gets lexed as PDF syntax.
//
// It also stops at an object header ("12 0 obj"), because an xref entry may
// point into the middle of a stream's data and a viewer would then read an
// object there that we would otherwise have skipped as data.
type streamBody struct {
	br   *bufio.Reader
	last byte // last byte handed out, to see whether "obj" starts a token
	done bool
}

// streamHold is how many bytes are held back at the end of the buffer so
// that a keyword, or an object header, straddling it is seen whole on the
// next read.
const streamHold = 64

var (
	kwEndstream = []byte("endstream")
	kwObj       = []byte("obj")
)

func (s *streamBody) Read(p []byte) (int, error) {
	if s.done {
		return 0, io.EOF
	}
	buf, err := s.br.Peek(s.br.Size())
	atEnd := err != nil
	end := s.findEnd(buf, atEnd)
	limit := len(buf)
	switch {
	case end >= 0:
		limit = end
	case !atEnd:
		limit -= streamHold
		// Never split a run of digits and white space: an object header
		// must be seen whole in one buffer.
		keep := limit
		for limit > 0 && (isPDFWhite(buf[limit-1]) || isDigit(buf[limit-1])) {
			limit--
		}
		if limit == 0 { // a buffer of nothing else: no header to protect
			limit = keep
		}
	}
	n := copy(p, buf[:limit])
	s.br.Discard(n)
	if n > 0 {
		s.last = buf[n-1]
	}
	if n == limit && (end >= 0 || atEnd) {
		s.done = true
	}
	if n == 0 && s.done {
		return 0, io.EOF
	}
	return n, nil
}

// findEnd returns where the stream data in buf ends, or -1.
func (s *streamBody) findEnd(buf []byte, atEnd bool) int {
	end := bytes.Index(buf, kwEndstream)
	search := buf
	if end >= 0 {
		search = buf[:end]
	}
	for off := 0; ; {
		i := bytes.Index(search[off:], kwObj)
		if i < 0 {
			return end
		}
		i += off
		if i+3 >= len(buf) && !atEnd {
			return end // cannot see what follows "obj": decided on the next read
		}
		if i+3 >= len(buf) || isPDFWhite(buf[i+3]) || isPDFDelim(buf[i+3]) {
			if start, ok := objHeaderStart(buf, i, s.last); ok {
				return start
			}
		}
		off = i + 3
	}
}

// objHeaderStart reports whether the "obj" at buf[i] ends an object header
// "num gen obj", and where that header starts. Read never splits a header
// between buffers, so all of it is in buf; last is the byte before buf.
func objHeaderStart(buf []byte, i int, last byte) (int, bool) {
	j := i
	for _, part := range []func(byte) bool{isPDFWhite, isDigit, isPDFWhite, isDigit} {
		k := j
		for k > 0 && part(buf[k-1]) {
			k--
		}
		if k == j {
			return 0, false
		}
		j = k
	}
	before := last
	if j > 0 {
		before = buf[j-1]
	}
	return j, isPDFWhite(before) || isPDFDelim(before)
}

// tailKeeper passes reads through and keeps the last pdfTailLen bytes.
type tailKeeper struct {
	r   io.Reader
	buf []byte
}

func (t *tailKeeper) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	if len(t.buf) > 2*pdfTailLen {
		copy(t.buf, t.buf[len(t.buf)-pdfTailLen:])
		t.buf = t.buf[:pdfTailLen]
	}
	return n, err
}

// hasTrailer reports whether the file ends with "startxref" and "%%EOF": a
// file cut off in transfer or by a broken export does not.
func (t *tailKeeper) hasTrailer() bool {
	tail := t.buf[max(0, len(t.buf)-pdfTailLen):]
	return bytes.Contains(tail, []byte("%%EOF")) && bytes.Contains(tail, []byte("startxref"))
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func isPDFWhite(c byte) bool {
	switch c {
	case 0, '\t', '\n', '\f', '\r', ' ':
		return true
	}
	return false
}

func isPDFDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// parsePDFInt parses an integer token (optional sign, digits).
func parsePDFInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}
