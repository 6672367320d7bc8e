package doccheckfixtures

import (
	"bytes"
	"compress/lzw"
	"compress/zlib"
	"encoding/ascii85"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
)

// PDF writes PDF files the way producers do: objects at recorded offsets,
// classic cross-reference tables or cross-reference streams, object
// streams with filter chains, and incremental updates (each section lists
// the objects written since the previous one and points back with /Prev).
type PDF struct {
	b        bytes.Buffer
	offsets  map[int]int    // objects written since the last section
	inStm    map[int][2]int // object -> (object stream, index), since the last section
	lastXref int            // offset of the previous section, -1 if none
}

// NewPDF starts a file with the given header version ("1.4", "1.7").
func NewPDF(version string) *PDF {
	p := &PDF{offsets: map[int]int{}, inStm: map[int][2]int{}, lastXref: -1}
	// The binary comment marks the file as binary for transfer tools.
	fmt.Fprintf(&p.b, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", version)
	return p
}

// Len is the current size (the offset of what is written next).
func (p *PDF) Len() int { return p.b.Len() }

// Obj writes object num with the given body.
func (p *PDF) Obj(num int, body string) *PDF {
	p.offsets[num] = p.b.Len()
	fmt.Fprintf(&p.b, "%d 0 obj\n%s\nendobj\n", num, body)
	return p
}

// Stream writes stream object num; the dictionary gets /Length.
func (p *PDF) Stream(num int, dict string, data []byte) *PDF {
	p.offsets[num] = p.b.Len()
	fmt.Fprintf(&p.b, "%d 0 obj\n<< %s /Length %d >>\nstream\n", num, dict, len(data))
	p.b.Write(data)
	p.b.WriteString("\nendstream\nendobj\n")
	return p
}

// Filter is one stream encoding, named as in /Filter.
type Filter struct {
	Name   string
	Parms  string // the /DecodeParms dictionary, "" for none
	Encode func([]byte) []byte
}

// Stream encodings for structural streams.
var (
	Flate = Filter{Name: "/FlateDecode", Encode: Deflate}
	// FlatePNG is Flate with the PNG Up predictor over rows of cols bytes.
	FlatePNG = func(cols int) Filter {
		return Filter{Name: "/FlateDecode", Parms: fmt.Sprintf("<< /Predictor 12 /Columns %d >>", cols),
			Encode: func(b []byte) []byte { return Deflate(pngUp(b, cols)) }}
	}
	ASCII85 = Filter{Name: "/ASCII85Decode", Encode: func(b []byte) []byte {
		out := make([]byte, ascii85.MaxEncodedLen(len(b)))
		return append(out[:ascii85.Encode(out, b)], "~>"...)
	}}
	ASCIIHex = Filter{Name: "/ASCIIHexDecode", Encode: func(b []byte) []byte { return []byte(fmt.Sprintf("%x>", b)) }}
	// LZW is written without early change (compress/lzw's variant).
	LZW = Filter{Name: "/LZWDecode", Parms: "<< /EarlyChange 0 >>", Encode: func(b []byte) []byte {
		var out bytes.Buffer
		w := lzw.NewWriter(&out, lzw.MSB, 8)
		w.Write(b)
		w.Close()
		return out.Bytes()
	}}
)

// encode applies filters (listed in /Filter order: the first is undone
// first) and returns the data and the dictionary entries.
func encode(data []byte, filters []Filter) ([]byte, string) {
	if len(filters) == 0 {
		return data, ""
	}
	names, parms := make([]string, len(filters)), make([]string, len(filters))
	anyParms := false
	for i := len(filters) - 1; i >= 0; i-- {
		data = filters[i].Encode(data)
	}
	for i, f := range filters {
		names[i], parms[i] = f.Name, f.Parms
		if f.Parms == "" {
			parms[i] = "null"
		} else {
			anyParms = true
		}
	}
	dict := "/Filter [" + strings.Join(names, " ") + "]"
	if anyParms {
		dict += " /DecodeParms [" + strings.Join(parms, " ") + "]"
	}
	return data, dict
}

// ObjStm writes object stream num holding objs (object number -> body).
func (p *PDF) ObjStm(num int, objs map[int]string, filters ...Filter) *PDF {
	nums := make([]int, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	var header, body strings.Builder
	for i, n := range nums {
		fmt.Fprintf(&header, "%d %d ", n, body.Len())
		body.WriteString(objs[n] + "\n")
		p.inStm[n] = [2]int{num, i}
	}
	data, dict := encode([]byte(header.String()+body.String()), filters)
	return p.Stream(num, fmt.Sprintf("/Type /ObjStm /N %d /First %d %s", len(nums), header.Len(), dict), data)
}

// XrefTable ends a section with a classic table of the objects written
// since the previous section, and a trailer with the given entries (plus
// /Size and /Prev).
func (p *PDF) XrefTable(size int, trailer string) *PDF {
	at := p.b.Len()
	p.b.WriteString("xref\n")
	nums := p.sectionNums(size, false)
	for _, run := range runs(nums) {
		fmt.Fprintf(&p.b, "%d %d\n", run[0], len(run))
		for _, n := range run {
			if n == 0 {
				p.b.WriteString("0000000000 65535 f\r\n")
				continue
			}
			fmt.Fprintf(&p.b, "%010d 00000 n\r\n", p.offsets[n])
		}
	}
	fmt.Fprintf(&p.b, "trailer\n<< /Size %d %s%s >>\nstartxref\n%d\n%%%%EOF\n", size, trailer, p.prev(), at)
	p.endSection(at)
	return p
}

// XrefStream ends a section with cross-reference stream num (written with
// the PNG predictor, as Word and pdfTeX do) for the objects written since
// the previous section, including those in object streams.
func (p *PDF) XrefStream(num, size int, trailer string) *PDF {
	at := p.b.Len()
	p.offsets[num] = at
	nums := p.sectionNums(size, true)
	var rows []byte
	var index []string
	for _, run := range runs(nums) {
		index = append(index, fmt.Sprintf("%d %d", run[0], len(run)))
		for _, n := range run {
			rows = append(rows, xrefRow(p, n)...)
		}
	}
	data, dict := encode(rows, []Filter{FlatePNG(7)})
	fmt.Fprintf(&p.b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] %s %s%s /Length %d >>\nstream\n",
		num, size, strings.Join(index, " "), dict, trailer, p.prev(), len(data))
	p.b.Write(data)
	fmt.Fprintf(&p.b, "\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n", at)
	p.endSection(at)
	return p
}

// HybridXref ends a section the way Word does for compatibility: a classic
// table of the top-level objects whose trailer's /XRefStm points to a
// cross-reference stream listing the objects in object streams, which only
// PDF 1.5 readers see.
func (p *PDF) HybridXref(streamNum, size int, trailer string) *PDF {
	hidden := map[int][2]int{}
	for n, loc := range p.inStm {
		hidden[n] = loc
	}
	p.inStm = map[int][2]int{}
	// The stream section lists only the hidden objects.
	stmAt := p.b.Len()
	var rows []byte
	var index []string
	nums := make([]int, 0, len(hidden))
	for n := range hidden {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, run := range runs(nums) {
		index = append(index, fmt.Sprintf("%d %d", run[0], len(run)))
		for _, n := range run {
			rows = append(rows, 2)
			rows = binary.BigEndian.AppendUint32(rows, uint32(hidden[n][0]))
			rows = binary.BigEndian.AppendUint16(rows, uint16(hidden[n][1]))
		}
	}
	data, dict := encode(rows, []Filter{FlatePNG(7)})
	fmt.Fprintf(&p.b, "%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Index [%s] %s /Length %d >>\nstream\n",
		streamNum, size, strings.Join(index, " "), dict, len(data))
	p.b.Write(data)
	p.b.WriteString("\nendstream\nendobj\n")
	p.offsets[streamNum] = stmAt
	return p.XrefTable(size, fmt.Sprintf("%s /XRefStm %d", trailer, stmAt))
}

func xrefRow(p *PDF, n int) []byte {
	row := make([]byte, 0, 7)
	if loc, ok := p.inStm[n]; ok {
		row = append(row, 2)
		row = binary.BigEndian.AppendUint32(row, uint32(loc[0]))
		return binary.BigEndian.AppendUint16(row, uint16(loc[1]))
	}
	if n == 0 {
		return append(row, 0, 0, 0, 0, 0, 0xFF, 0xFF)
	}
	row = append(row, 1)
	row = binary.BigEndian.AppendUint32(row, uint32(p.offsets[n]))
	return binary.BigEndian.AppendUint16(row, 0)
}

// sectionNums lists the objects of the current section (object 0 in the
// first one).
func (p *PDF) sectionNums(size int, withStm bool) []int {
	var nums []int
	for n := range p.offsets {
		if n < size {
			nums = append(nums, n)
		}
	}
	if withStm {
		for n := range p.inStm {
			nums = append(nums, n)
		}
	}
	if p.lastXref < 0 {
		nums = append(nums, 0)
	}
	sort.Ints(nums)
	return nums
}

func (p *PDF) prev() string {
	if p.lastXref < 0 {
		return ""
	}
	return fmt.Sprintf(" /Prev %d", p.lastXref)
}

func (p *PDF) endSection(at int) {
	p.lastXref = at
	p.offsets = map[int]int{}
	p.inStm = map[int][2]int{}
}

// Bytes returns the file.
func (p *PDF) Bytes() []byte { return bytes.Clone(p.b.Bytes()) }

// runs splits sorted numbers into runs of consecutive ones.
func runs(nums []int) [][]int {
	var out [][]int
	for i, n := range nums {
		if i > 0 && n == nums[i-1]+1 {
			out[len(out)-1] = append(out[len(out)-1], n)
			continue
		}
		out = append(out, []int{n})
	}
	return out
}

// Deflate compresses with zlib, as PDF's FlateDecode expects.
func Deflate(b []byte) []byte {
	var out bytes.Buffer
	zw := zlib.NewWriter(&out)
	zw.Write(b)
	zw.Close()
	return out.Bytes()
}

// pngUp applies the PNG Up predictor (type 2) to rows of cols bytes.
func pngUp(b []byte, cols int) []byte {
	var out []byte
	prev := make([]byte, cols)
	for off := 0; off < len(b); off += cols {
		row := make([]byte, cols)
		copy(row, b[off:min(len(b), off+cols)])
		out = append(out, 2)
		for i := range row {
			out = append(out, row[i]-prev[i])
		}
		prev = row
	}
	return out
}
