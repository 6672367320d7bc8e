package doccheck

import (
	"bufio"
	"bytes"
	"compress/lzw"
	"compress/zlib"
	"encoding/ascii85"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// pdfOf wraps objects (written out in full, "N 0 obj ... endobj") into a
// one-page PDF whose startxref points nowhere, so that readers (and the
// check) rebuild the table from the object headers.
func pdfOf(objs ...string) []byte {
	var b strings.Builder
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	b.WriteString("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n")
	b.WriteString("2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	b.WriteString("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n")
	for _, o := range objs {
		b.WriteString(o + "\n")
	}
	b.WriteString("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 4 /Root 1 0 R >>\nstartxref\n0\n%%EOF\n")
	return []byte(b.String())
}

func deflated(s string) string { return string(fx.Deflate([]byte(s))) }

func hexed(s string) string { return fmt.Sprintf("%x>", s) }

// objStmObj writes object stream num holding the given objects (number ->
// body) with the given extra dictionary entries and data encoding.
func objStmObj(num int, dict string, encode func(string) string, objs ...string) string {
	var header, body strings.Builder
	for i := 0; i < len(objs); i += 2 {
		fmt.Fprintf(&header, "%s %d ", objs[i], body.Len())
		body.WriteString(objs[i+1] + "\n")
	}
	data := encode(header.String() + body.String())
	return fmt.Sprintf("%d 0 obj\n<< %s /N %d /First %d /Length %d >>\nstream\n%s\nendstream\nendobj",
		num, dict, len(objs)/2, header.Len(), len(data), data)
}

func plain(s string) string { return s }

func checkPDFBytes(data []byte) Result {
	res := Result{RealType: TypePDF, Metrics: map[string]float64{}}
	checkPDF(&res, SpecFor(domain.DocBusinessLicense), bufio.NewReaderSize(bytes.NewReader(data), readBufSize), 0)
	res.finish()
	return res
}

func TestCheckPDF(t *testing.T) {
	bomb := deflated(strings.Repeat("\x00", 64<<20)) // 64 MB from ~64 KB
	js := "<< /S /JavaScript /JS (x) >>"
	tests := []struct {
		name      string
		data      []byte
		wantCodes []string
		wantPages float64
	}{
		{"minimal", pdfOf(), nil, 1},
		{"names inside strings are text", pdfOf("4 0 obj << /Title (/JavaScript \\) /JS \\( /AA) >> endobj"), nil, 1},
		{"names inside hex strings are text", pdfOf("4 0 obj << /Title <2F4A53> >> endobj"), nil, 1},
		{"names inside comments are not names", pdfOf("% /JavaScript /OpenAction\n4 0 obj << >> endobj"), nil, 1},
		{"longer names are other names", pdfOf("4 0 obj << /JSX 1 /JavaScripts 2 /AAA 3 /XFAx 4 >> endobj"), nil, 1},
		{"/JS", pdfOf("4 0 obj << /S /JavaScript /JS 5 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"/AA", pdfOf("4 0 obj << /AA << /O 5 0 R >> >> endobj"), []string{CodePDFActive}, 1},
		{"empty /AA is harmless", pdfOf("4 0 obj << /AA << >> >> endobj"), nil, 1},
		{"/AA naming a free object is harmless", pdfOf("4 0 obj << /AA 0 0 R >> endobj"), nil, 1},
		{"/Launch", pdfOf("4 0 obj << /S /Launch /F (calc.exe) >> endobj"), []string{CodePDFActive}, 1},
		{"/EmbeddedFile", pdfOf("4 0 obj << /Type /EmbeddedFile >> endobj"), []string{CodePDFActive}, 1},
		{"/EmbeddedFiles", pdfOf("4 0 obj << /EmbeddedFiles 5 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"/RichMedia", pdfOf("4 0 obj << /Subtype /RichMedia >> endobj"), []string{CodePDFActive}, 1},
		{"/XFA", pdfOf("4 0 obj << /XFA 5 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"fully escaped /JS", pdfOf("4 0 obj << /#4A#53 (x) >> endobj"), []string{CodePDFActive}, 1},
		{"lower-case escapes", pdfOf("4 0 obj << /Open#41ction 5 0 R /J#61v#61Script 6 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"/OpenAction destination glued to delimiters passes", pdfOf("4 0 obj <</OpenAction[3 0 R/Fit]>> endobj"), nil, 1},
		{"/OpenAction GoTo passes", pdfOf("4 0 obj << /OpenAction << /S /GoTo /D [3 0 R /Fit] >> >> endobj"), nil, 1},
		{"/OpenAction named destination passes", pdfOf("4 0 obj << /OpenAction (chapter.1) >> endobj"), nil, 1},
		{"/OpenAction to a missing object fails", pdfOf("4 0 obj << /OpenAction 9 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"/OpenAction by reference to a destination passes", pdfOf("4 0 obj << /OpenAction 5 0 R >> endobj", "5 0 obj [3 0 R /Fit] endobj"), nil, 1},
		{"stream data is not syntax", pdfOf("4 0 obj << /Length 40 >>\nstream\n/JavaScript /JS /AA (not syntax here)\nendstream\nendobj"), nil, 1},
		{"object hidden inside stream data", pdfOf("4 0 obj << /Length 60 >>\nstream\nq Q\n9 0 obj " + js + " endobj\nendstream\nendobj"), []string{CodePDFActive}, 1},
		{"/Length too long does not hide what follows", pdfOf("4 0 obj << /Length 99999 >>\nstream\nabc\nendstream\nendobj\n5 0 obj << /AA 6 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"unbalanced string does not hide the next object", pdfOf("4 0 obj << /T (open >> endobj\n5 0 obj " + js + " endobj"), []string{CodePDFActive}, 1},
		{"comment does not hide an object on its line", pdfOf("%junk 5 0 obj << /AA 1 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"unterminated hex string does not hide the next object", pdfOf("4 0 obj << /T <abc 5 0 obj << /JS (x) >> endobj"), []string{CodePDFActive}, 1},
		{"object header inside a string is harmless", pdfOf("4 0 obj << /T (see 12 0 obj for details) >> endobj"), nil, 1},
		{"duplicate /S keys are all judged", pdfOf("4 0 obj << /S /GoTo /S /Launch >> endobj"), []string{CodePDFActive}, 1},
		{"deep nesting is bounded", pdfOf("4 0 obj " + strings.Repeat("[", 10000) + " endobj"), nil, 1},
		{"web link is a note, not a failure", pdfOf("4 0 obj << /S /URI /URI (https://example.com/) >> endobj"), nil, 1},
		{"file link fails", pdfOf("4 0 obj << /S /URI /URI (file:///C:/x.exe) >> endobj"), []string{CodePDFActive}, 1},
		{"UNC link fails", pdfOf("4 0 obj << /S /URI /URI (\\\\\\\\host\\\\share) >> endobj"), []string{CodePDFActive}, 1},
		{"pages are counted from the tree", pdfOf("4 0 obj <</Type/Page>> endobj", "5 0 obj << /Type /Page >> endobj"), nil, 1},
		{"page tree loop counts each page once", pdfOf("2 0 obj << /Type /Pages /Kids [3 0 R 2 0 R 3 0 R] >> endobj"), nil, 1},
		{"page without /Type under /Pages counts", pdfOf("2 0 obj << /Type /Pages /Kids [3 0 R 5 0 R] >> endobj", "5 0 obj << /MediaBox [0 0 1 1] >> endobj"), nil, 2},
		{"JavaScript in object stream", pdfOf(objStmObj(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", js)), []string{CodePDFActive}, 1},
		{"escaped name in object stream", pdfOf(objStmObj(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /A#41 5 0 R >>")), []string{CodePDFActive}, 1},
		{"filter as an array", pdfOf(objStmObj(9, "/Type /ObjStm /Filter [/FlateDecode]", deflated, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"uncompressed object stream", pdfOf(objStmObj(9, "/Type /ObjStm", plain, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"object stream without /Type", pdfOf(objStmObj(9, "/Filter /FlateDecode", deflated, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"object stream with escaped /Type", pdfOf(objStmObj(9, "/Type /Obj#53tm /Filter /Fl", deflated, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"hex-encoded object stream", pdfOf(objStmObj(9, "/Type /ObjStm /Filter /AHx", hexed, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"clean object stream", pdfOf(objStmObj(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /Title (ok) >>", "8", "[1 2 3]")), nil, 1},
		{"object stream supplies the page", pdfOf("2 0 obj << /Type /Pages /Kids [3 0 R 7 0 R] >> endobj",
			objStmObj(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /Type /Page >>")), nil, 2},
		{"image filter on an object stream", pdfOf(objStmObj(9, "/Type /ObjStm /Filter /DCTDecode", plain, "7", "<< >>")), []string{CodePDFUnscannable}, 1},
		{"filter given by reference", pdfOf(objStmObj(9, "/Type /ObjStm /Filter 12 0 R", deflated, "7", "<< >>")), []string{CodePDFUnscannable}, 1},
		{"corrupt deflate data", pdfOf("9 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 12 >>\nstream\nnot deflate!\nendstream\nendobj"), []string{CodeUnreadable}, 1},
		{"zip bomb in an object stream", pdfOf("9 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n" + bomb + "\nendstream\nendobj"), []string{CodePDFUnscannable}, 1},
		{"bad version", append([]byte("%PDF-9.1\n"), pdfOf()[9:]...), []string{CodeUnreadable}, 0},
		{"no %%EOF", bytes.TrimSuffix(pdfOf(), []byte("%%EOF\n")), []string{CodeUnreadable}, 0},
		{"no startxref", bytes.Replace(pdfOf(), []byte("startxref"), []byte("xxxxxxxxx"), 1), []string{CodeUnreadable}, 0},
		{"no pages", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstartxref\n0\n%%EOF\n"), []string{CodeUnreadable}, 0},
		{"no catalog", []byte("%PDF-1.4\n1 0 obj << /Type /Page >> endobj\nstartxref\n0\n%%EOF\n"), []string{CodeUnreadable}, 0},
		{"encrypted says only that", []byte("%PDF-1.4\ntrailer << /Encrypt 5 0 R >>\nstartxref\n0\n%%EOF\n"), []string{CodeUnreadable}, 0},
		{"unterminated string and stream", []byte("%PDF-1.4\n1 0 obj << /Type /Page /T (abc\nstream\nxyz"), []string{CodeUnreadable}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := totalAlloc()
			res := checkPDFBytes(tt.data)
			if alloc := totalAlloc() - before; alloc > 4<<20 {
				t.Errorf("allocated %d bytes, want < 4 MB", alloc)
			}
			want := tt.wantCodes
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, res.Codes()); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			if res.Metrics["pages"] != tt.wantPages {
				t.Errorf("pages = %v, want %v", res.Metrics["pages"], tt.wantPages)
			}
		})
	}
}

func TestCheckPDFNamesActiveContent(t *testing.T) {
	res := checkPDFBytes(pdfOf("4 0 obj << /OpenAction 5 0 R /AA 6 0 R /J#53 (x) >> endobj"))
	if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message.En, "/AA /JavaScript /OpenAction") {
		t.Errorf("findings = %+v, want one naming /AA /JavaScript /OpenAction", res.Findings)
	}
}

// TestHostilePDFCorpus: every file of the hostile corpus fails with exactly
// one finding, which names what was found.
func TestHostilePDFCorpus(t *testing.T) {
	for _, h := range fx.HostilePDFs() {
		t.Run(h.Name, func(t *testing.T) {
			res := checkPDFBytes(h.Data)
			if len(res.Findings) != 1 || res.Findings[0].Code != h.Code {
				t.Fatalf("findings = %v, want one %s", res.Codes(), h.Code)
			}
			for _, name := range h.Names {
				if msg := res.Findings[0].Message.En; !strings.Contains(msg, name) {
					t.Errorf("message %q does not name %s", msg, name)
				}
			}
			if len(res.Notes) != 0 {
				t.Errorf("notes on a failed file: %v", res.Notes)
			}
		})
	}
}

// TestOrdinaryPDFs: files as LaTeX, Word, scanners and "Print to PDF"
// write them pass; their web links are noted for the reviewer.
func TestOrdinaryPDFs(t *testing.T) {
	want := map[string]struct {
		pages float64
		notes []string
	}{
		"latex":        {2, []string{CodePDFLinks}},
		"word":         {1, []string{CodePDFLinks}},
		"scanner":      {2, nil},
		"print-to-pdf": {2, nil},
	}
	for name, data := range fx.OrdinaryPDFs() {
		t.Run(name, func(t *testing.T) {
			res := checkPDFBytes(data)
			if !res.Passed {
				t.Fatalf("findings %v: %+v", res.Codes(), res.Findings)
			}
			if res.Metrics["pages"] != want[name].pages {
				t.Errorf("pages = %v, want %v", res.Metrics["pages"], want[name].pages)
			}
			var notes []string
			for _, n := range res.Notes {
				notes = append(notes, n.Code)
			}
			if diff := cmp.Diff(want[name].notes, notes); diff != "" {
				t.Errorf("notes (-want +got):\n%s", diff)
			}
		})
	}
	res := checkPDFBytes(fx.LaTeXPDF())
	if len(res.Notes) == 1 && !strings.Contains(res.Notes[0].Message.En, "https://www.gsxt.gov.cn/") {
		t.Errorf("note %q does not show the link", res.Notes[0].Message.En)
	}
}

var updatePDFCorpus = flag.Bool("update-pdf-corpus", false, "rewrite testdata/pdf from the generators")

// TestPDFCorpusFiles keeps the corpora as files (for other tools and
// readers to open) and holds them equal to the generators.
func TestPDFCorpusFiles(t *testing.T) {
	files := map[string][]byte{}
	for _, h := range fx.HostilePDFs() {
		files[filepath.Join("hostile", h.Name+".pdf")] = h.Data
	}
	for name, data := range fx.OrdinaryPDFs() {
		files[filepath.Join("ordinary", name+".pdf")] = data
	}
	for name, data := range files {
		path := filepath.Join("testdata", "pdf", name)
		if *updatePDFCorpus {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -update-pdf-corpus)", err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s differs from its generator (run with -update-pdf-corpus)", path)
		}
	}
	entries, _ := filepath.Glob(filepath.Join("testdata", "pdf", "*", "*.pdf"))
	for _, e := range entries {
		rel, _ := filepath.Rel(filepath.Join("testdata", "pdf"), e)
		if _, ok := files[rel]; !ok {
			t.Errorf("%s has no generator", e)
		}
	}
}

// TestPDFFilters decodes each filter against an independent encoder.
func TestPDFFilters(t *testing.T) {
	text := strings.Repeat("1 0 obj << /Type /Catalog >> endobj TOBEORNOTTOBEORTOBEORNOT ", 200)
	var lz bytes.Buffer
	lw := lzw.NewWriter(&lz, lzw.MSB, 8)
	io.WriteString(lw, text)
	lw.Close()
	a85 := make([]byte, ascii85.MaxEncodedLen(len(text)))
	a85 = a85[:ascii85.Encode(a85, []byte(text))]
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	io.WriteString(zw, text)
	zw.Close()
	raw := z.Bytes()[2 : z.Len()-4] // raw deflate, no zlib header or checksum
	rle := []byte{}
	for i := 0; i < len(text); i += 100 {
		chunk := text[i:min(len(text), i+100)]
		rle = append(rle, byte(len(chunk)-1))
		rle = append(rle, chunk...)
	}
	rle = append(rle, 257-9, 'x', 128) // "x" nine times, then end of data
	tests := []struct {
		name, dict string
		data       []byte
		want       string
	}{
		{"flate", "/Filter /FlateDecode", z.Bytes(), text},
		{"raw deflate", "/Filter /Fl", raw, text},
		{"lzw", "/Filter /LZWDecode /DecodeParms << /EarlyChange 0 >>", lz.Bytes(), text},
		{"ascii85", "/Filter /A85", append(a85, "~>"...), text},
		{"asciihex", "/Filter /ASCIIHexDecode", []byte(fmt.Sprintf("%x>", text)), text},
		{"runlength", "/Filter /RL", rle, text + "xxxxxxxxx"},
		{"chain", "/Filter [/A85 /Fl]", append(bytes.Clone(encodeA85(z.Bytes())), "~>"...), text},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pdfParser{b: []byte("<< " + tt.dict + " >>")}
			d, _ := p.value()
			out, err := decodeStream(&pdfStream{dict: d.(pdfDict), data: tt.data}, 1<<20)
			if err != nil || string(out) != tt.want {
				t.Errorf("decode = %d bytes, %v; want %d bytes", len(out), err, len(tt.want))
			}
		})
	}
	t.Run("limit", func(t *testing.T) {
		if _, err := decodeStream(&pdfStream{dict: pdfDict{{"Filter", pdfName("FlateDecode")}}, data: z.Bytes()}, int64(len(text)-1)); err != errPDFInflation {
			t.Errorf("err = %v, want the inflation limit", err)
		}
	})
}

func encodeA85(b []byte) []byte {
	out := make([]byte, ascii85.MaxEncodedLen(len(b)))
	return out[:ascii85.Encode(out, b)]
}

func TestCheckPDFZipBombBounded(t *testing.T) {
	var bomb []byte
	for _, h := range fx.HostilePDFs() {
		if h.Name == "zip-bomb-objstm" {
			bomb = h.Data
		}
	}
	before := totalAlloc()
	res := checkPDFBytes(bomb)
	if alloc := totalAlloc() - before; alloc > 4<<20 {
		t.Errorf("allocated %d bytes for a zip bomb, want < 4 MB", alloc)
	}
	if !slices.Equal(res.Codes(), []string{CodePDFUnscannable}) {
		t.Errorf("codes = %v", res.Codes())
	}
}
