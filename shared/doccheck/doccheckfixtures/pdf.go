package doccheckfixtures

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"strings"
	"sync"
)

func deflate(s string) []byte { return Deflate([]byte(s)) }

// pageContent is a page's drawing operators, compressed as writers do.
func pageContent(page int) []byte {
	return deflate(fmt.Sprintf("BT /F1 24 Tf 72 760 Td (Business license, page %d) Tj ET\n"+
		"0 0 0 RG 4 w 72 700 451 -300 re S\n", page))
}

// PDFPages is a clean PDF with n pages of text, as "Print to PDF" writes
// it: a classic cross-reference table, objects 1 catalog, 2 page tree,
// 3 font, then a page and its content stream per page.
func PDFPages(n int) []byte { return doc{pages: n}.build() }

// CleanPDF is a one-page PDF with nothing active in it: it passes.
func CleanPDF() []byte { return PDFPages(1) }

// PDFWithOpenAction is CleanPDF whose catalog opens a web page by itself
// when the file is opened.
func PDFWithOpenAction() []byte {
	return doc{catalog: "/OpenAction << /S /URI /URI (https://example.com/x) >>"}.build()
}

// PDFWithEscapedJavaScript carries a document-level JavaScript whose names
// are written with #xx escapes (/J#61vaScript, /J#53), which viewers decode
// to /JavaScript and /JS while naive byte searches miss them.
func PDFWithEscapedJavaScript() []byte {
	return doc{catalog: "/Names << /J#61vaScript 20 0 R >>", extra: map[int]string{
		20: "<< /Names [(init) 21 0 R] >>",
		21: "<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>",
	}}.build()
}

// EncryptedPDF has an /Encrypt dictionary in its trailer (the standard
// security handler). Its content is not really encrypted: it exists to
// exercise the check, not viewers.
func EncryptedPDF() []byte {
	return doc{extra: map[int]string{20: "<< /Filter /Standard /V 1 /R 2 /P -44 " +
		"/O <" + strings.Repeat("5a", 32) + "> /U <" + strings.Repeat("c3", 32) + "> >>"},
		trailerNote: "/Encrypt 20 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]"}.build()
}

// PDFWithObjStmJavaScript is a PDF 1.5 file whose catalog, name tree and
// JavaScript action live only inside a Flate-compressed object stream, with
// a cross-reference stream: nothing suspicious is visible without inflating.
func PDFWithObjStmJavaScript() []byte {
	return doc{version: "1.5", catalog: "/Names << /JavaScript 20 0 R >>", inObjStm: true, extra: map[int]string{
		20: "<< /Names [(init) 21 0 R] >>",
		21: "<< /S /JavaScript /JS (app.alert\\(1\\)) >>",
	}}.build()
}

// zipBombObjStm is an object stream of about 64 KB that inflates to 64 MB.
func zipBombObjStm() []byte { return bytes.Clone(zipBomb()) }

// zipBomb compresses 64 MB once per process: it takes a while.
var zipBomb = sync.OnceValue(func() []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write([]byte("20 0 "))
	zero := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zero)
	}
	zw.Close()
	p := NewPDF("1.5")
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	p.Obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	p.Obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
	p.Stream(4, "/Type /ObjStm /N 1 /First 5 /Filter /FlateDecode", z.Bytes())
	return p.XrefTable(5, "/Root 1 0 R").Bytes()
})
