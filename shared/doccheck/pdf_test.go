package doccheck

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// pdfOf wraps objects (written out in full, "N 0 obj ... endobj") into a
// one-page PDF. The check does not follow the xref table, so it is a stub.
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

func deflated(s string) string {
	var b bytes.Buffer
	zw := zlib.NewWriter(&b)
	io.WriteString(zw, s)
	zw.Close()
	return b.String()
}

// objStm writes object stream num holding the given objects (number ->
// body) with the given extra dictionary entries and data encoding.
func objStm(num int, dict string, encode func(string) string, objs ...string) string {
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
	checkPDF(&res, SpecFor(domain.DocBusinessLicense), bufio.NewReaderSize(bytes.NewReader(data), readBufSize))
	res.finish()
	return res
}

func TestCheckPDF(t *testing.T) {
	bomb := deflated(strings.Repeat("\x00", 64<<20)) // 64 MB from ~64 KB
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
		{"/Launch", pdfOf("4 0 obj << /S /Launch /F (calc.exe) >> endobj"), []string{CodePDFActive}, 1},
		{"/EmbeddedFile", pdfOf("4 0 obj << /Type /EmbeddedFile >> endobj"), []string{CodePDFActive}, 1},
		{"/EmbeddedFiles", pdfOf("4 0 obj << /EmbeddedFiles 5 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"/RichMedia", pdfOf("4 0 obj << /Subtype /RichMedia >> endobj"), []string{CodePDFActive}, 1},
		{"/XFA", pdfOf("4 0 obj << /XFA 5 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"fully escaped /JS", pdfOf("4 0 obj << /#4A#53 (x) >> endobj"), []string{CodePDFActive}, 1},
		{"lower-case escapes", pdfOf("4 0 obj << /Open#41ction 5 0 R /J#61v#61Script 6 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"name glued to a delimiter", pdfOf("4 0 obj <</OpenAction[3 0 R/Fit]>> endobj"), []string{CodePDFActive}, 1},
		{"stream data is skipped", pdfOf("4 0 obj << /Length 40 >>\nstream\n/JavaScript /JS /AA (not syntax here)\nendstream\nendobj"), nil, 1},
		{"object hidden inside stream data", pdfOf("4 0 obj << /Length 60 >>\nstream\nq Q\n9 0 obj << /OpenAction 1 0 R >> endobj\nendstream\nendobj"), []string{CodePDFActive}, 1},
		{"/Length too long does not hide what follows", pdfOf("4 0 obj << /Length 99999 >>\nstream\nabc\nendstream\nendobj\n5 0 obj << /AA 6 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"unbalanced string does not hide the next object", pdfOf("4 0 obj << /T (open >> endobj\n5 0 obj << /OpenAction 1 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"comment does not hide an object on its line", pdfOf("%junk 5 0 obj << /AA 1 0 R >> endobj"), []string{CodePDFActive}, 1},
		{"unterminated hex string does not hide the next object", pdfOf("4 0 obj << /T <abc 5 0 obj << /JS (x) >> endobj"), []string{CodePDFActive}, 1},
		{"object header inside a string is harmless", pdfOf("4 0 obj << /T (see 12 0 obj for details) >> endobj"), nil, 1},
		{"/Pages is not a page", pdfOf("4 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj"), nil, 1},
		{"/Type/Page without spaces", pdfOf("4 0 obj <</Type/Page>> endobj"), nil, 2},
		{"escaped /Page", pdfOf("4 0 obj << /Type /P#61ge >> endobj"), nil, 2},
		{"comment between key and value", pdfOf("4 0 obj << /Type % c\n /Page >> endobj"), nil, 2},
		{"page revised by an incremental update counts once", pdfOf("3 0 obj << /Type /Page /Rotate 90 >> endobj"), nil, 1},
		{"JavaScript in object stream", pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /S /JavaScript /JS (x) >>")), []string{CodePDFActive}, 1},
		{"escaped name in object stream", pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /A#41 5 0 R >>")), []string{CodePDFActive}, 1},
		{"filter as an array", pdfOf(objStm(9, "/Type /ObjStm /Filter [/FlateDecode]", deflated, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"uncompressed object stream", pdfOf(objStm(9, "/Type /ObjStm", plain, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"object stream without /Type", pdfOf(objStm(9, "/Filter /FlateDecode", deflated, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"object stream with escaped /Type", pdfOf(objStm(9, "/Type /Obj#53tm /Filter /Fl", deflated, "7", "<< /JS (x) >>")), []string{CodePDFActive}, 1},
		{"clean object stream", pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /Title (ok) >>", "8", "[1 2 3]")), nil, 1},
		{"pages in object streams", pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /Type /Page >>", "8", "<< /Type /Page >>")), nil, 3},
		{"page in two object streams counts once", pdfOf(
			objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /Type /Page >>", "8", "<< /Type /Font >>"),
			objStm(10, "/Type /ObjStm /Filter /FlateDecode", deflated, "8", "<< /Type /Font >>", "7", "<< /Type /Page /Rotate 90 >>")), nil, 2},
		{"page moved into an object stream counts once", pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "3", "<< /Type /Page >>")), nil, 1},
		{"unsupported object stream filter", pdfOf(objStm(9, "/Type /ObjStm /Filter /ASCIIHexDecode", plain, "7", "<< >>")), []string{CodePDFUnscannable}, 1},
		{"filter chain", pdfOf(objStm(9, "/Type /ObjStm /Filter [/ASCII85Decode /FlateDecode]", plain, "7", "<< >>")), []string{CodePDFUnscannable}, 1},
		{"filter given by reference", pdfOf(objStm(9, "/Type /ObjStm /Filter 12 0 R", deflated, "7", "<< >>")), []string{CodePDFUnscannable}, 1},
		{"predictor", pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode /DecodeParms << /Predictor 12 >>", deflated, "7", "<< >>")), []string{CodePDFUnscannable}, 1},
		{"corrupt deflate data", pdfOf("9 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length 12 >>\nstream\nnot deflate!\nendstream\nendobj"), []string{CodeUnreadable}, 1},
		{"zip bomb in an object stream", pdfOf("9 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n" + bomb + "\nendstream\nendobj"), []string{CodePDFUnscannable}, 1},
		{"bad version", append([]byte("%PDF-9.1\n"), pdfOf()[9:]...), []string{CodeUnreadable}, 1},
		{"no %%EOF", bytes.TrimSuffix(pdfOf(), []byte("%%EOF\n")), []string{CodeUnreadable}, 1},
		{"no startxref", bytes.Replace(pdfOf(), []byte("startxref"), []byte("xxxxxxxxx"), 1), []string{CodeUnreadable}, 1},
		{"no pages", []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nstartxref\n0\n%%EOF\n"), []string{CodeUnreadable}, 0},
		{"encrypted says only that", []byte("%PDF-1.4\ntrailer << /Encrypt 5 0 R >>\nstartxref\n0\n%%EOF\n"), []string{CodePDFEncrypted}, 0},
		{"unterminated string and stream", []byte("%PDF-1.4\n1 0 obj << /Type /Page /T (abc\nstream\nxyz"), []string{CodeUnreadable}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := totalAlloc()
			res := checkPDFBytes(tt.data)
			if alloc := totalAlloc() - before; alloc > 2<<20 {
				t.Errorf("allocated %d bytes, want < 2 MB", alloc)
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
	if len(res.Findings) != 1 || !strings.Contains(res.Findings[0].Message.En, "/AA /JS /OpenAction") {
		t.Errorf("findings = %+v, want one naming /AA /JS /OpenAction", res.Findings)
	}
}

// splitReader returns its data in two reads, split at i.
type splitReader struct {
	data []byte
	i    int
}

func (s *splitReader) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, io.EOF
	}
	end := len(s.data)
	if s.i > 0 && s.i < end {
		end = s.i
	}
	n := copy(p, s.data[:end])
	s.data = s.data[n:]
	s.i -= n
	return n, nil
}

// TestCheckPDFChunkBoundaries splits each PDF at every byte: a name, escape,
// keyword or "endstream" cut in two must be found all the same.
func TestCheckPDFChunkBoundaries(t *testing.T) {
	inputs := map[string][]byte{
		"open action": fx.PDFWithOpenAction(),
		"escaped":     fx.PDFWithEscapedJavaScript(),
		"objstm":      fx.PDFWithObjStmJavaScript(),
		"encrypted":   fx.EncryptedPDF(),
		"hidden":      pdfOf("4 0 obj << /Length 60 >>\nstream\nq Q\n9 0 obj << /OpenAction 1 0 R >> endobj\nendstream\nendobj"),
		"unbalanced":  pdfOf("4 0 obj << /T (open <abc >> endobj\n5 0 obj << /OpenAction 1 0 R >> endobj % 6 0 obj"),
		"pages":       pdfOf(objStm(9, "/Type /ObjStm /Filter /FlateDecode", deflated, "7", "<< /Type /Page >>", "3", "<< /Type /Page >>")),
	}
	for name, data := range inputs {
		want := checkPDFBytes(data)
		for i := 1; i < len(data); i++ {
			res := Result{RealType: TypePDF, Metrics: map[string]float64{}}
			checkPDF(&res, SpecFor(domain.DocBusinessLicense), bufio.NewReaderSize(&splitReader{data: data, i: i}, readBufSize))
			res.finish()
			if diff := cmp.Diff(want, res); diff != "" {
				t.Fatalf("%s split at %d (-whole +split):\n%s", name, i, diff)
			}
		}
	}
}

// TestCheckPDFLargeStreams skips megabytes of binary stream data that is
// full of near-misses ("endstrea", "ob", "/J") across buffer boundaries.
func TestCheckPDFLargeStreams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var data strings.Builder
	// No "m" anywhere, so "endstrea" is never completed by chance.
	pieces := []string{"endstrea", "obj", "xobj", "objx", " 0 obj", "/JS", "/AA", "(", ")", "<<", "\\", "\n"}
	for data.Len() < 3<<20 {
		if rng.IntN(4) == 0 {
			data.WriteString(pieces[rng.IntN(len(pieces))])
		} else {
			data.WriteByte("abcdefghijklnopqrstuvwxyz"[rng.IntN(25)])
		}
	}
	doc := pdfOf("4 0 obj << /Length 1 >>\nstream\n"+data.String()+"\nendstream\nendobj", "5 0 obj << /Type /Page >> endobj")
	for _, r := range []io.Reader{bytes.NewReader(doc), &splitReader{data: doc, i: len(doc) / 3}} {
		res := Result{RealType: TypePDF, Metrics: map[string]float64{}}
		checkPDF(&res, SpecFor(domain.DocBusinessLicense), bufio.NewReaderSize(r, readBufSize))
		if len(res.Findings) != 0 || res.Metrics["pages"] != 2 {
			t.Errorf("codes %v, pages %v; want clean with 2 pages", res.Codes(), res.Metrics["pages"])
		}
	}
}

func TestCheckPDFZipBombBounded(t *testing.T) {
	// 64 MB of zeros in one object stream: inflation stops at the limit.
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zero := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zero)
	}
	zw.Close()
	doc := pdfOf("9 0 obj << /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode >>\nstream\n" + z.String() + "\nendstream\nendobj")
	sc := &pdfScan{spec: SpecFor(domain.DocBusinessLicense), pageObjs: map[int64]struct{}{}}
	lx := newPDFLexer(bufio.NewReader(bytes.NewReader(doc)), sc)
	before := totalAlloc()
	if err := lx.run(); err != nil {
		t.Fatal(err)
	}
	if alloc := totalAlloc() - before; alloc > 1<<20 {
		t.Errorf("allocated %d bytes for a zip bomb, want < 1 MB", alloc)
	}
	if !sc.unscannable || sc.inflated > sc.spec.MaxInflatedBytes+1 {
		t.Errorf("unscannable %v after inflating %d bytes (limit %d)", sc.unscannable, sc.inflated, sc.spec.MaxInflatedBytes)
	}
}
