package doccheck

import (
	"bufio"
	"bytes"
	"io"
	"maps"
	"slices"
	"strings"

	"microcert/shared/domain"
)

// A PDF is checked as a reader sees it (pdfxref.go resolves it: the
// cross-reference chain, incremental updates, object streams, repair of a
// broken table). Then every object the file defines is inspected: the ones
// the table resolves to, and also superseded, unreferenced and hidden ones,
// since readers that repair a file, or disagree about which definition
// wins, may use any of them. Content streams (drawing operators, images,
// fonts) are not decoded: readers do not act on what is in them.
//
// What fails is what a reader does by itself, or on one click, beyond
// showing the pages: scripts, launching programs, opening other files
// (GoToR, GoToE, which also leak Windows credentials through UNC paths),
// sending or importing form data, embedded files and attachments, Flash and
// 3D content, XFA forms, media renditions, automatic actions (/AA, and an
// /OpenAction that is more than "go to this page"). Links to web pages are
// left to the reviewer as a note.

// pdfTailLen is how far from the end "startxref" and "%%EOF" must be;
// readers tolerate about this much garbage after the last %%EOF.
const pdfTailLen = 1024

// Limits of what is reported to the reviewer about links.
const (
	maxPDFLinks   = 20
	maxPDFLinkLen = 200
)

// pdfActionFlags are the action types (/S) that fail, with the name the
// finding shows.
var pdfActionFlags = map[pdfName]string{
	"JavaScript":       "/JavaScript",
	"Launch":           "/Launch",
	"GoToR":            "/GoToR",
	"GoToE":            "/GoToE",
	"SubmitForm":       "/SubmitForm",
	"ImportData":       "/ImportData",
	"RichMediaExecute": "/RichMedia",
	"Rendition":        "/Rendition",
	"Movie":            "/Movie",
}

// pdfKeyFlags are dictionary keys that fail wherever they appear.
var pdfKeyFlags = map[pdfName]string{
	"JS":                "/JavaScript", // the script of an action
	"JavaScript":        "/JavaScript", // the document-level scripts name tree
	"EF":                "/EmbeddedFile",
	"EmbeddedFiles":     "/EmbeddedFile",
	"XFA":               "/XFA",
	"RichMediaContent":  "/RichMedia",
	"RichMediaSettings": "/RichMedia",
}

// pdfSubtypeFlags are /Subtype (and /Type) values that fail.
var pdfSubtypeFlags = map[pdfName]string{
	"FileAttachment": "/FileAttachment",
	"EmbeddedFile":   "/EmbeddedFile",
	"RichMedia":      "/RichMedia",
	"3D":             "/3D",
}

// pdfLinkSchemes are the URI schemes a reviewer may follow; any other
// scheme (file:, smb:, a UNC path, javascript:, data:) fails.
var pdfLinkSchemes = map[string]bool{"http": true, "https": true, "mailto": true}

// checkPDF validates a PDF read from br: a sane header, a trailer at the
// end, no encryption, a catalog with pages within the limit, and no active
// content.
//
// sizeHint is the object's size if known (0 if not), to read it into one
// buffer of the right size.
func checkPDF(res *Result, spec Spec, br *bufio.Reader, sizeHint int64) {
	// The cross-reference table points anywhere in the file, so the file
	// is read whole; Check has capped it at MaxBytes.
	var buf bytes.Buffer
	if sizeHint > 0 {
		buf.Grow(int(min(sizeHint, spec.MaxBytes)) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(br); err != nil {
		return // Check reports the read error
	}
	data := buf.Bytes()
	res.Metrics["pages"] = 0
	if !validPDFHeader(data) || !hasPDFTrailer(data) {
		res.add(findUnreadable(TypePDF))
		return
	}
	doc, err := newPDFDoc(data, spec.MaxInflatedBytes)
	if err != nil {
		res.add(findUnreadable(TypePDF))
		return
	}
	if doc.encrypted() {
		// Encrypted strings and streams cannot be read, so nothing else
		// can be said: only the password matters to the applicant now.
		res.add(findPDFEncrypted())
		return
	}
	ck := &pdfChecker{doc: doc}
	ck.inspectAll()
	root := doc.root()
	pages := 0
	if root != nil {
		pages = countPages(doc, root)
	}
	res.Metrics["pages"] = float64(pages)
	if root == nil || pages == 0 || doc.damaged {
		res.add(findUnreadable(TypePDF))
	}
	if len(ck.active) > 0 {
		slices.Sort(ck.active)
		res.add(findPDFActive(ck.active))
	}
	if pages > spec.MaxPages {
		res.add(findPDFTooManyPages(pages, spec.MaxPages))
	}
	if doc.overLimit || doc.undecoded {
		res.add(findPDFUnscannable())
	}
	if len(ck.links) > 0 && len(res.Findings) == 0 {
		res.Notes = append(res.Notes, notePDFLinks(ck.links))
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

// hasPDFTrailer reports whether the file ends with "startxref" and "%%EOF":
// a file cut off in transfer or by a broken export does not.
func hasPDFTrailer(b []byte) bool {
	tail := b[max(0, len(b)-pdfTailLen):]
	return bytes.Contains(tail, []byte("%%EOF")) && bytes.Contains(tail, []byte("startxref"))
}

// pdfChecker collects what the inspection finds.
type pdfChecker struct {
	doc    *pdfDoc
	active []string
	links  []string
}

func (c *pdfChecker) flag(name string) {
	if !slices.Contains(c.active, name) {
		c.active = append(c.active, name)
	}
}

// inspectAll inspects every object of the file once: each one with a
// header (wherever it is), each one the table points to elsewhere, each
// one in an object stream, and the trailers.
func (c *pdfChecker) inspectAll() {
	d := c.doc
	atHeader := make(map[int64]bool, len(d.headers))
	for _, h := range d.headers {
		atHeader[h.offset] = true
		v, _ := d.parseAt(h.offset, false)
		c.inspect(v, 0)
		if s, ok := v.(*pdfStream); ok && isObjStm(s) {
			d.objStm(h.offset, s)
		}
	}
	nums := slices.Sorted(maps.Keys(d.xref))
	for _, num := range nums {
		switch loc := d.xref[num]; {
		case loc.inObjStm >= 0:
			d.objStmByNum(loc.inObjStm)
		case loc.offset >= 0 && !atHeader[loc.offset]:
			v, _ := d.parseAtLenient(loc.offset, 0)
			c.inspect(v, 0)
		}
	}
	// Inspecting resolves references, which may decode more object
	// streams: go on until none is left.
	done := map[int64]bool{}
	for {
		var next []int64
		for off := range d.objStms {
			if !done[off] {
				next = append(next, off)
			}
		}
		if len(next) == 0 {
			break
		}
		slices.Sort(next)
		for _, off := range next {
			done[off] = true
			st := d.objStms[off]
			if st == nil {
				continue
			}
			for i := range st.offs {
				v, _ := st.object(int64(i))
				c.inspect(v, 0)
			}
		}
	}
	for _, t := range d.trailers {
		c.inspect(t, 0)
	}
	slices.Sort(c.links)
}

// isObjStm reports whether a stream found by its header is an object
// stream; the table's references decide for the others.
func isObjStm(s *pdfStream) bool {
	t, _ := s.dict.get("Type").(pdfName)
	return t == "ObjStm" || (s.dict.has("N") && s.dict.has("First"))
}

// inspect looks at a value and everything nested in it (references are
// objects of their own, inspected on their own).
func (c *pdfChecker) inspect(v any, depth int) {
	if depth > maxPDFDepth {
		return
	}
	switch x := v.(type) {
	case *pdfStream:
		c.inspect(x.dict, depth)
	case pdfArray:
		for _, e := range x {
			c.inspect(e, depth+1)
		}
	case pdfDict:
		c.inspectDict(x)
		for _, e := range x {
			c.inspect(e.val, depth+1)
		}
	}
}

func (c *pdfChecker) inspectDict(d pdfDict) {
	for _, e := range d {
		if name, ok := pdfKeyFlags[e.key]; ok {
			c.flag(name)
		}
		switch e.key {
		case "AA":
			if c.nonEmpty(e.val) {
				c.flag("/AA")
			}
		case "OpenAction":
			if !c.plainDestination(e.val) {
				c.flag("/OpenAction")
			}
		case "Subtype", "Type":
			if n, ok := e.val.(pdfName); ok {
				if name, ok := pdfSubtypeFlags[n]; ok {
					c.flag(name)
				}
			}
		case "S":
			n, _ := e.val.(pdfName)
			if name, ok := pdfActionFlags[n]; ok {
				c.flag(name)
			}
			if n == "URI" {
				c.uri(d.get("URI"))
			}
		}
	}
}

// nonEmpty reports whether an /AA entry holds any action; one that cannot
// be resolved counts, since a reader might resolve it.
func (c *pdfChecker) nonEmpty(v any) bool {
	switch x := c.doc.resolve(v).(type) {
	case nil:
		_, isRef := v.(pdfRef)
		return isRef && !c.doc.isFree(v.(pdfRef))
	case pdfDict:
		return len(x) > 0
	}
	return false
}

// plainDestination reports whether an /OpenAction only shows a page: a
// destination (an array such as [3 0 R /Fit], or a named one), or a GoTo
// action with nothing after it. LaTeX and Word write these.
func (c *pdfChecker) plainDestination(v any) bool {
	switch x := c.doc.resolve(v).(type) {
	case pdfArray, pdfName, pdfString:
		return true
	case pdfDict:
		s := x.names("S")
		return len(s) == 1 && s[0] == "GoTo" && x.get("Next") == nil
	}
	return v == nil
}

// uri judges a /URI action's target: web and mail links are noted for the
// reviewer, any other scheme fails.
func (c *pdfChecker) uri(v any) {
	s, ok := c.doc.resolve(v).(pdfString)
	if !ok {
		return
	}
	u := strings.TrimSpace(string(s))
	scheme, _, hasScheme := strings.Cut(u, ":")
	scheme = strings.ToLower(scheme)
	switch {
	case strings.HasPrefix(u, `\\`) || strings.HasPrefix(u, "//"):
		c.flag(`/URI \\UNC`)
		return
	case hasScheme && validScheme(scheme) && !pdfLinkSchemes[scheme]:
		if scheme == "javascript" {
			c.flag("/JavaScript")
		} else {
			c.flag("/URI " + scheme + ":")
		}
		return
	}
	u = printable(u, maxPDFLinkLen)
	if len(c.links) < maxPDFLinks && !slices.Contains(c.links, u) {
		c.links = append(c.links, u)
	}
}

// validScheme reports whether s is an RFC 3986 scheme (so that "a:b" in a
// relative link is not taken for one only when it cannot be).
func validScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z') && !isDigit(c) && c != '+' && c != '-' && c != '.' {
			return false
		}
	}
	return true
}

// printable keeps a link fit for a reviewer's screen: no control
// characters, at most n bytes.
func printable(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7F {
			return -1
		}
		return r
	}, s)
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

// maxPageNodes caps the page-tree nodes visited; past the cap the verdict
// is settled (too many pages).
const maxPageNodes = 10_000

// countPages walks the page tree from the catalog's /Pages as readers do:
// leaves are pages, each node visited once (a loop counts nothing twice).
func countPages(d *pdfDoc, root pdfDict) int {
	seen := map[pdfRef]bool{}
	pages, visits := 0, 0
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		if depth > maxPDFDepth || visits >= maxPageNodes {
			return
		}
		visits++
		if r, ok := v.(pdfRef); ok {
			if seen[r] {
				return
			}
			seen[r] = true
		}
		node, ok := d.resolve(v).(pdfDict)
		if !ok {
			return
		}
		t, _ := node.get("Type").(pdfName)
		kids, isTree := d.resolve(node.get("Kids")).(pdfArray)
		if t == "Pages" || (t != "Page" && isTree) {
			for _, k := range kids {
				walk(k, depth+1)
			}
			return
		}
		pages++
	}
	walk(root.get("Pages"), 0)
	return pages
}

// isFree reports whether r's object is free (object 0 always is).
func (d *pdfDoc) isFree(r pdfRef) bool {
	if r.num == 0 {
		return true
	}
	loc, ok := d.xref[r.num]
	return ok && loc.inObjStm < 0 && loc.offset < 0
}

func notePDFLinks(links []string) domain.Finding {
	list := strings.Join(links, " ")
	return finding(CodePDFLinks,
		"PDF 含有外部链接，请审核人员确认链接内容："+list,
		"The PDF contains links; check where they lead: "+list)
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

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
