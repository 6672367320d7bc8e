package doccheckfixtures

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"strings"
)

// pdfWriter writes a PDF with a correct cross-reference table, so the
// fixtures open in real viewers (except EncryptedPDF, whose content is not
// actually encrypted).
type pdfWriter struct {
	b       bytes.Buffer
	offsets map[int]int // object number -> byte offset
}

func newPDF(version string) *pdfWriter {
	w := &pdfWriter{offsets: map[int]int{}}
	// The binary comment marks the file as binary for transfer tools.
	fmt.Fprintf(&w.b, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", version)
	return w
}

func (w *pdfWriter) obj(num int, body string) {
	w.offsets[num] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n%s\nendobj\n", num, body)
}

func (w *pdfWriter) stream(num int, dict string, data []byte) {
	w.offsets[num] = w.b.Len()
	fmt.Fprintf(&w.b, "%d 0 obj\n<< %s /Length %d >>\nstream\n", num, dict, len(data))
	w.b.Write(data)
	w.b.WriteString("\nendstream\nendobj\n")
}

// finish writes a classic xref table and trailer for objects 1..size-1.
func (w *pdfWriter) finish(size int, trailer string) []byte {
	xref := w.b.Len()
	fmt.Fprintf(&w.b, "xref\n0 %d\n0000000000 65535 f \n", size)
	for i := 1; i < size; i++ {
		fmt.Fprintf(&w.b, "%010d 00000 n \n", w.offsets[i])
	}
	fmt.Fprintf(&w.b, "trailer\n<< /Size %d %s >>\nstartxref\n%d\n%%%%EOF\n", size, trailer, xref)
	return w.b.Bytes()
}

func deflate(s string) []byte {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	zw.Write([]byte(s))
	zw.Close()
	return b.Bytes()
}

// pageContent is a page's drawing operators, compressed as writers do.
func pageContent(page int) []byte {
	return deflate(fmt.Sprintf("BT /F1 24 Tf 72 760 Td (Business license, page %d) Tj ET\n"+
		"0 0 0 RG 4 w 72 700 451 -300 re S\n", page))
}

// PDFPages is a clean PDF with n pages of text; its objects are: 1 catalog,
// 2 page tree, 3 font, then a page and its content stream per page.
func PDFPages(n int) []byte {
	return pdfWithCatalog(n, "", nil)
}

// pdfWithCatalog writes a PDF of n pages whose catalog gets extra entries,
// followed by extra objects numbered from 4+2n.
func pdfWithCatalog(n int, catalogExtra string, extra []string) []byte {
	w := newPDF("1.7")
	kids := make([]string, n)
	for i := range n {
		kids[i] = fmt.Sprintf("%d 0 R", 4+2*i)
	}
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R "+catalogExtra+">>")
	w.obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), n))
	w.obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := range n {
		page, content := 4+2*i, 5+2*i
		w.obj(page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "+
			"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", content))
		w.stream(content, "/Filter /FlateDecode", pageContent(i+1))
	}
	next := 4 + 2*n
	for i, body := range extra {
		w.obj(next+i, body)
	}
	return w.finish(next+len(extra), "/Root 1 0 R")
}

// CleanPDF is a one-page PDF with nothing active in it: it passes.
func CleanPDF() []byte { return PDFPages(1) }

// PDFWithOpenAction is CleanPDF whose catalog runs an action when the file
// is opened.
func PDFWithOpenAction() []byte {
	return pdfWithCatalog(1, "/OpenAction << /S /URI /URI (https://example.com/x) >> ", nil)
}

// PDFWithEscapedJavaScript carries a document-level JavaScript whose names
// are written with #xx escapes (/J#61vaScript, /J#53), which viewers decode
// to /JavaScript and /JS while naive byte searches miss them.
func PDFWithEscapedJavaScript() []byte {
	// Objects 6 (name tree) and 7 (action) follow the single page (4, 5).
	return pdfWithCatalog(1, "/Names << /J#61vaScript 6 0 R >> ", []string{
		"<< /Names [(init) 7 0 R] >>",
		"<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
	})
}

// EncryptedPDF has an /Encrypt dictionary in its trailer (the standard
// security handler). Its content is not really encrypted: it exists to
// exercise the check, not viewers.
func EncryptedPDF() []byte {
	w := newPDF("1.7")
	w.obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	w.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	w.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>")
	w.stream(4, "/Filter /FlateDecode", pageContent(1))
	w.obj(5, "<< /Filter /Standard /V 1 /R 2 /P -44 "+
		"/O <"+strings.Repeat("5a", 32)+"> /U <"+strings.Repeat("c3", 32)+"> >>")
	return w.finish(6, "/Root 1 0 R /Encrypt 5 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]")
}

// PDFWithObjStmJavaScript is a PDF 1.5 file whose catalog, name tree and
// JavaScript action live only inside a Flate-compressed object stream, with
// a cross-reference stream: nothing suspicious is visible without inflating.
func PDFWithObjStmJavaScript() []byte {
	w := newPDF("1.5")
	// Top level: 2 pages root, 3 page, 4 content, 5 font, 8 object stream,
	// 9 xref stream. In the object stream: 1 catalog, 6 names, 7 action.
	w.obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	w.obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "+
		"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>")
	w.stream(4, "/Filter /FlateDecode", pageContent(1))
	w.obj(5, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")

	inner := []struct {
		num  int
		body string
	}{
		{1, "<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 6 0 R >> >>"},
		{6, "<< /Names [(init) 7 0 R] >>"},
		{7, "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"},
	}
	var header, objs strings.Builder
	for _, o := range inner {
		fmt.Fprintf(&header, "%d %d ", o.num, objs.Len())
		objs.WriteString(o.body + "\n")
	}
	first := header.Len()
	w.stream(8, fmt.Sprintf("/Type /ObjStm /N %d /First %d /Filter /FlateDecode", len(inner), first),
		deflate(header.String()+objs.String()))

	// Cross-reference stream: fields type (1 byte), offset or object stream
	// number (4), generation or index (2).
	const size = 10
	xrefAt := w.b.Len()
	w.offsets[9] = xrefAt
	entries := make([]byte, 0, size*7)
	entry := func(typ byte, a uint32, b uint16) {
		entries = append(entries, typ)
		entries = binary.BigEndian.AppendUint32(entries, a)
		entries = binary.BigEndian.AppendUint16(entries, b)
	}
	entry(0, 0, 0xFFFF)
	for num := 1; num < size; num++ {
		switch num {
		case 1:
			entry(2, 8, 0)
		case 6:
			entry(2, 8, 1)
		case 7:
			entry(2, 8, 2)
		default:
			entry(1, uint32(w.offsets[num]), 0)
		}
	}
	fmt.Fprintf(&w.b, "9 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Length %d >>\nstream\n", size, len(entries))
	w.b.Write(entries)
	fmt.Fprintf(&w.b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", xrefAt)
	return w.b.Bytes()
}
