package doccheck

import (
	"bufio"
	"bytes"
	"compress/flate"
	"errors"
	"io"
)

// The filters readers apply to the streams that hold PDF structure (object
// streams and cross-reference streams). Image codecs (DCT, JPX, JBIG2,
// CCITT) never hold structure; a structural stream that uses one, or any
// filter not listed, cannot be checked and is refused rather than passed.

var (
	errPDFFilter    = errors.New("doccheck: unsupported PDF filter")
	errPDFInflation = errors.New("doccheck: PDF stream inflates past the limit")
)

// maxPDFFilters bounds a filter chain; writers use one or two.
const maxPDFFilters = 8

// decodeStream applies the stream's filters, producing at most limit bytes
// (errPDFInflation past that: the zip-bomb guard). Damaged compressed data
// yields what could be decoded and no error, as readers show what they can.
func decodeStream(s *pdfStream, limit int64) ([]byte, error) {
	var filters []pdfName
	var parms []any
	switch f := s.dict.get("Filter").(type) {
	case nil:
	case pdfName:
		filters = []pdfName{f}
		parms = []any{s.dict.get("DecodeParms")}
	case pdfArray:
		for _, x := range f {
			n, ok := x.(pdfName)
			if !ok {
				return nil, errPDFFilter
			}
			filters = append(filters, n)
		}
		if pa, ok := s.dict.get("DecodeParms").(pdfArray); ok {
			parms = pa
		}
	default:
		return nil, errPDFFilter // by reference or malformed: cannot tell
	}
	if len(filters) > maxPDFFilters {
		return nil, errPDFFilter
	}
	data := s.data
	for i, f := range filters {
		var parm pdfDict
		if i < len(parms) {
			parm, _ = parms[i].(pdfDict)
		}
		// The filter runs twice: once to measure, so that a bomb is
		// refused without holding its output, then to keep the data.
		open := func() (io.Reader, error) { return filterReader(f, parm, data) }
		out, err := readLimited(open, limit)
		if err != nil {
			return nil, err
		}
		if out, err = unpredict(out, parm); err != nil {
			return nil, err
		}
		data = out
	}
	return data, nil
}

// filterReader returns a reader decoding data with filter f.
func filterReader(f pdfName, parm pdfDict, data []byte) (io.Reader, error) {
	switch f {
	case "FlateDecode", "Fl":
		return inflater(data), nil
	case "LZWDecode", "LZW":
		early := int64(1)
		if v, ok := parm.int("EarlyChange"); ok {
			early = v
		}
		return &lzwReader{br: bufio.NewReader(bytes.NewReader(data)), early: early != 0}, nil
	case "ASCIIHexDecode", "AHx":
		p := &pdfParser{b: data}
		return bytes.NewReader(p.hex()), nil
	case "ASCII85Decode", "A85":
		return bytes.NewReader(decodeASCII85(data)), nil
	case "RunLengthDecode", "RL":
		return &runLengthReader{b: data}, nil
	case "Crypt":
		if n, _ := parm.get("Name").(pdfName); n != "" && n != "Identity" {
			return nil, errPDFFilter
		}
		return bytes.NewReader(data), nil
	}
	return nil, errPDFFilter
}

// readLimited decodes to the end, or fails past limit bytes without
// keeping them. A read error (damaged compressed data) ends the data
// there, as readers show what they could decode.
func readLimited(open func() (io.Reader, error), limit int64) ([]byte, error) {
	r, err := open()
	if err != nil {
		return nil, err
	}
	n, _ := io.Copy(io.Discard, io.LimitReader(r, limit+1))
	if n > limit {
		return nil, errPDFInflation
	}
	if r, err = open(); err != nil {
		return nil, err
	}
	buf := bytes.NewBuffer(make([]byte, 0, n))
	_, _ = io.Copy(buf, io.LimitReader(r, n))
	return buf.Bytes(), nil
}

// inflater reads zlib data, or raw deflate data without the zlib header,
// which some writers produce and readers accept; the Adler-32 checksum is
// not checked, as readers do not check it either.
func inflater(data []byte) io.Reader {
	if len(data) >= 2 && data[0]&0x0F == 8 && (uint16(data[0])<<8|uint16(data[1]))%31 == 0 {
		data = data[2:]
	}
	return flate.NewReader(bytes.NewReader(data))
}

// unpredict undoes a PNG (10-15) or TIFF (2) predictor.
func unpredict(data []byte, parm pdfDict) ([]byte, error) {
	pred, _ := parm.int("Predictor")
	if pred <= 1 {
		return data, nil
	}
	colors, bpc, columns := int64(1), int64(8), int64(1)
	if v, ok := parm.int("Colors"); ok {
		colors = v
	}
	if v, ok := parm.int("BitsPerComponent"); ok {
		bpc = v
	}
	if v, ok := parm.int("Columns"); ok {
		columns = v
	}
	if colors < 1 || colors > 32 || (bpc != 1 && bpc != 2 && bpc != 4 && bpc != 8 && bpc != 16) || columns < 1 || columns > 1<<20 {
		return nil, errPDFFilter
	}
	bpp := int(max(1, (colors*bpc+7)/8))
	rowLen := int((colors*bpc*columns + 7) / 8)
	if pred == 2 {
		if bpc != 8 {
			return nil, errPDFFilter
		}
		for row := 0; row+rowLen <= len(data); row += rowLen {
			for i := bpp; i < rowLen; i++ {
				data[row+i] += data[row+i-bpp]
			}
		}
		return data, nil
	}
	if pred < 10 || pred > 15 {
		return nil, errPDFFilter
	}
	out := make([]byte, 0, len(data))
	prev := make([]byte, rowLen)
	for off := 0; off < len(data); off += rowLen + 1 {
		typ := data[off]
		row := data[off+1 : min(len(data), off+1+rowLen)]
		cur := make([]byte, len(row))
		for i, x := range row {
			var a, b, c byte
			if i >= bpp {
				a, c = cur[i-bpp], prev[i-bpp]
			}
			b = prev[i]
			switch typ {
			case 0:
				cur[i] = x
			case 1:
				cur[i] = x + a
			case 2:
				cur[i] = x + b
			case 3:
				cur[i] = x + byte((int(a)+int(b))/2)
			case 4:
				cur[i] = x + paeth(a, b, c)
			default:
				return out, nil // damaged: keep what was decoded, as readers do
			}
		}
		out = append(out, cur...)
		copy(prev, cur)
	}
	return out, nil
}

func paeth(a, b, c byte) byte {
	p := int(a) + int(b) - int(c)
	pa, pb, pc := abs(p-int(a)), abs(p-int(b)), abs(p-int(c))
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// decodeASCII85 decodes ASCII base-85 up to "~>", ignoring white space.
// The output is at most 4/5 of the input, so it needs no limit of its own.
func decodeASCII85(data []byte) []byte {
	if i := bytes.Index(data, []byte("~>")); i >= 0 {
		data = data[:i]
	}
	data = bytes.TrimPrefix(bytes.TrimLeft(data, "\x00\t\n\f\r "), []byte("<~"))
	out := make([]byte, 0, len(data)*4/5+4)
	var group [5]byte
	n := 0
	flush := func(count int) {
		var v uint64
		for i := 0; i < 5; i++ {
			v = v*85 + uint64(group[i])
		}
		b := [4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
		out = append(out, b[:count]...)
	}
	for _, c := range data {
		switch {
		case isPDFWhite(c):
		case c == 'z' && n == 0:
			out = append(out, 0, 0, 0, 0)
		case c >= '!' && c <= 'u':
			group[n] = c - '!'
			if n++; n == 5 {
				flush(4)
				n = 0
			}
		default:
			return out
		}
	}
	if n > 1 {
		for i := n; i < 5; i++ {
			group[i] = 84
		}
		flush(n - 1)
	}
	return out
}

// runLengthReader decodes RunLengthDecode data.
type runLengthReader struct {
	b       []byte
	run     int  // bytes left in the current run
	literal bool // the run copies bytes rather than repeating one
	rep     byte
}

func (r *runLengthReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if r.run == 0 {
			if len(r.b) == 0 || r.b[0] == 128 {
				break
			}
			l := int(r.b[0])
			r.b = r.b[1:]
			if l < 128 {
				r.run, r.literal = l+1, true
			} else {
				if len(r.b) == 0 {
					break
				}
				r.run, r.literal, r.rep = 257-l, false, r.b[0]
				r.b = r.b[1:]
			}
		}
		if r.literal {
			if len(r.b) == 0 {
				break
			}
			c := copy(p[n:], r.b[:min(r.run, len(r.b))])
			r.b, r.run, n = r.b[c:], r.run-c, n+c
			continue
		}
		for r.run > 0 && n < len(p) {
			p[n] = r.rep
			n++
			r.run--
		}
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// lzwReader decodes PDF's LZW: MSB-first codes of 9 to 12 bits, 256 clears
// the table, 257 ends the data, and with "early change" (the default) the
// code width grows one code early.
type lzwReader struct {
	br    *bufio.Reader
	early bool
	bits  uint32
	nbits uint
	width uint
	table [][]byte
	prev  []byte
	out   []byte // decoded but not yet returned
	done  bool
}

func (l *lzwReader) reset() {
	l.table = l.table[:0]
	for i := 0; i < 256; i++ {
		l.table = append(l.table, []byte{byte(i)})
	}
	l.table = append(l.table, nil, nil) // 256 clear, 257 end
	l.width, l.prev = 9, nil
}

func (l *lzwReader) code() (int, bool) {
	for l.nbits < l.width {
		c, err := l.br.ReadByte()
		if err != nil {
			return 0, false
		}
		l.bits = l.bits<<8 | uint32(c)
		l.nbits += 8
	}
	l.nbits -= l.width
	return int(l.bits>>l.nbits) & (1<<l.width - 1), true
}

func (l *lzwReader) Read(p []byte) (int, error) {
	if l.table == nil {
		l.table = make([][]byte, 0, 4096)
		l.reset()
	}
	for len(l.out) == 0 {
		if l.done {
			return 0, io.EOF
		}
		c, ok := l.code()
		if !ok || c == 257 {
			l.done = true
			continue
		}
		if c == 256 {
			l.reset()
			continue
		}
		var entry []byte
		switch {
		case c < len(l.table) && l.table[c] != nil:
			entry = l.table[c]
		case c == len(l.table) && l.prev != nil:
			entry = append(append([]byte{}, l.prev...), l.prev[0])
		default:
			l.done = true // damaged data
			continue
		}
		if l.prev != nil && len(l.table) < 4096 {
			l.table = append(l.table, append(append([]byte{}, l.prev...), entry[0]))
		}
		l.prev = entry
		next := len(l.table)
		if l.early {
			next++
		}
		switch {
		case next >= 4096:
			l.width = 12
		case next >= 2048:
			l.width = 12
		case next >= 1024:
			l.width = 11
		case next >= 512:
			l.width = 10
		}
		l.out = entry
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}
