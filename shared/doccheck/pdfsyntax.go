package doccheck

import (
	"bytes"
	"errors"
	"strconv"
)

// PDF values as the parser returns them. A dictionary keeps every entry in
// file order, duplicates included: readers disagree on which of two equal
// keys wins, so the checks look at all of them.
type (
	pdfName   string // decoded (#xx escapes applied), without the '/'
	pdfString []byte // decoded literal or hex string
	pdfArray  []any
	pdfDict   []pdfEntry
	pdfRef    struct{ num, gen int64 }
	// pdfKeyword is any other bare word (true, false and null are Go values).
	pdfKeyword string
)

type pdfEntry struct {
	key pdfName
	val any
}

// pdfStream is a stream object: its dictionary and its still-encoded data,
// a slice of the file.
type pdfStream struct {
	dict pdfDict
	data []byte
}

// get returns the last value of key (what most readers use), or nil.
func (d pdfDict) get(key pdfName) any {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i].key == key {
			return d[i].val
		}
	}
	return nil
}

func (d pdfDict) has(key pdfName) bool {
	for _, e := range d {
		if e.key == key {
			return true
		}
	}
	return false
}

// names returns every name value of key (all duplicates).
func (d pdfDict) names(key pdfName) []pdfName {
	var out []pdfName
	for _, e := range d {
		if n, ok := e.val.(pdfName); ok && e.key == key {
			out = append(out, n)
		}
	}
	return out
}

func (d pdfDict) int(key pdfName) (int64, bool) {
	v, ok := d.get(key).(int64)
	return v, ok
}

const (
	// maxPDFDepth bounds the nesting of arrays and dictionaries; real files
	// nest a handful of levels, hostile ones could exhaust the stack.
	maxPDFDepth = 64
	// pdfStreamSlack is how far after the end given by /Length the
	// "endstream" keyword may be (end-of-line markers, stray spaces).
	pdfStreamSlack = 32
)

var (
	errPDFSyntax = errors.New("doccheck: PDF syntax error")
	errPDFDepth  = errors.New("doccheck: PDF nested too deeply")
)

// pdfParser reads PDF syntax from a byte slice. It is lenient, like
// readers: unknown words become keywords, a dictionary key that is not a
// name is skipped, and a missing ">>" or "]" at the end of the data closes
// what is open.
type pdfParser struct {
	b     []byte
	pos   int
	depth int
}

func (p *pdfParser) skipSpace() {
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		switch {
		case isPDFWhite(c):
			p.pos++
		case c == '%':
			for p.pos < len(p.b) && p.b[p.pos] != '\n' && p.b[p.pos] != '\r' {
				p.pos++
			}
		default:
			return
		}
	}
}

// value reads one value; "N G R" becomes a pdfRef.
func (p *pdfParser) value() (any, error) {
	p.skipSpace()
	if p.pos >= len(p.b) {
		return nil, errPDFSyntax
	}
	switch c := p.b[p.pos]; c {
	case '/':
		p.pos++
		return p.name(), nil
	case '(':
		p.pos++
		return p.literal(), nil
	case '<':
		if p.pos+1 < len(p.b) && p.b[p.pos+1] == '<' {
			p.pos += 2
			return p.dict()
		}
		p.pos++
		return p.hex(), nil
	case '[':
		p.pos++
		return p.array()
	case ']', '>', ')', '{', '}':
		p.pos++
		return pdfKeyword(c), nil
	}
	tok := p.token()
	if n, ok := parsePDFInt(tok); ok {
		// A reference is "num gen R": look ahead without consuming.
		save := p.pos
		p.skipSpace()
		if gen, ok := parsePDFInt(p.token()); ok && n >= 0 && gen >= 0 {
			p.skipSpace()
			if r := p.token(); len(r) == 1 && r[0] == 'R' {
				return pdfRef{num: n, gen: gen}, nil
			}
		}
		p.pos = save
		return n, nil
	}
	if f, err := strconv.ParseFloat(string(tok), 64); err == nil && len(tok) > 0 && (isDigit(tok[0]) || tok[0] == '.' || tok[0] == '-' || tok[0] == '+') {
		return f, nil
	}
	switch string(tok) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	return pdfKeyword(tok), nil
}

// token reads a run of regular characters.
func (p *pdfParser) token() []byte {
	start := p.pos
	for p.pos < len(p.b) && !isPDFWhite(p.b[p.pos]) && !isPDFDelim(p.b[p.pos]) {
		p.pos++
	}
	return p.b[start:p.pos]
}

// name reads a name after its '/', decoding #xx escapes as readers do.
func (p *pdfParser) name() pdfName {
	tok := p.token()
	if bytes.IndexByte(tok, '#') < 0 {
		return pdfName(tok)
	}
	out := make([]byte, 0, len(tok))
	for i := 0; i < len(tok); i++ {
		if tok[i] == '#' && i+2 < len(tok) && isHex(tok[i+1]) && isHex(tok[i+2]) {
			out = append(out, unhex(tok[i+1])<<4|unhex(tok[i+2]))
			i += 2
			continue
		}
		out = append(out, tok[i])
	}
	return pdfName(out)
}

// literal reads a literal string after its '(': balanced parentheses and
// backslash escapes. An unterminated string ends at the end of the data.
func (p *pdfParser) literal() pdfString {
	var out []byte
	depth := 1
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch c {
		case '(':
			depth++
		case ')':
			if depth--; depth == 0 {
				return out
			}
		case '\\':
			if p.pos >= len(p.b) {
				return out
			}
			e := p.b[p.pos]
			p.pos++
			switch e {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if p.pos < len(p.b) && p.b[p.pos] == '\n' {
					p.pos++
				}
				continue
			case '\n':
				continue
			default:
				if e >= '0' && e <= '7' {
					v := int(e - '0')
					for k := 0; k < 2 && p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '7'; k++ {
						v = v*8 + int(p.b[p.pos]-'0')
						p.pos++
					}
					c = byte(v)
				} else {
					c = e
				}
			}
		}
		out = append(out, c)
	}
	return out
}

// hex reads a hex string after its '<'; white space is ignored, a missing
// last digit is 0, and anything that is neither ends it.
func (p *pdfParser) hex() pdfString {
	var out []byte
	var hi byte
	half := false
	for p.pos < len(p.b) {
		c := p.b[p.pos]
		p.pos++
		switch {
		case c == '>':
			if half {
				out = append(out, hi<<4)
			}
			return out
		case isHex(c):
			if half {
				out = append(out, hi<<4|unhex(c))
			} else {
				hi = unhex(c)
			}
			half = !half
		case isPDFWhite(c):
		default:
			p.pos--
			return out
		}
	}
	return out
}

func (p *pdfParser) array() (any, error) {
	if p.depth++; p.depth > maxPDFDepth {
		return nil, errPDFDepth
	}
	defer func() { p.depth-- }()
	var arr pdfArray
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return arr, nil
		}
		if p.b[p.pos] == ']' {
			p.pos++
			return arr, nil
		}
		if p.atKeyword("endobj") || p.atKeyword("stream") {
			return arr, nil // an unclosed array ends with its object
		}
		v, err := p.value()
		if err != nil {
			return arr, err
		}
		arr = append(arr, v)
	}
}

func (p *pdfParser) dict() (any, error) {
	if p.depth++; p.depth > maxPDFDepth {
		return nil, errPDFDepth
	}
	defer func() { p.depth-- }()
	var d pdfDict
	for {
		p.skipSpace()
		if p.pos >= len(p.b) {
			return d, nil
		}
		if p.b[p.pos] == '>' {
			p.pos++
			if p.pos < len(p.b) && p.b[p.pos] == '>' {
				p.pos++
			}
			return d, nil
		}
		if p.atKeyword("endobj") || p.atKeyword("stream") {
			return d, nil
		}
		k, err := p.value()
		if err != nil {
			return d, err
		}
		key, ok := k.(pdfName)
		if !ok {
			continue // not a key: readers skip it
		}
		p.skipSpace()
		if p.pos < len(p.b) && p.b[p.pos] == '>' {
			d = append(d, pdfEntry{key: key}) // a key without a value
			continue
		}
		v, err := p.value()
		if err != nil {
			return d, err
		}
		d = append(d, pdfEntry{key: key, val: v})
	}
}

// atKeyword reports whether the keyword kw starts at the current position
// as a whole token.
func (p *pdfParser) atKeyword(kw string) bool {
	rest := p.b[p.pos:]
	if !bytes.HasPrefix(rest, []byte(kw)) {
		return false
	}
	return len(rest) == len(kw) || isPDFWhite(rest[len(kw)]) || isPDFDelim(rest[len(kw)])
}

// objectHeader reads "num gen obj" at the current position.
func (p *pdfParser) objectHeader() (num int64, ok bool) {
	p.skipSpace()
	n, ok1 := parsePDFInt(p.token())
	p.skipSpace()
	_, ok2 := parsePDFInt(p.token())
	p.skipSpace()
	if !ok1 || !ok2 || n < 0 || !p.atKeyword("obj") {
		return 0, false
	}
	p.pos += 3
	return n, true
}

// object reads the body of an indirect object after its header: a value,
// and if "stream" follows a dictionary, the stream's extent. length
// resolves an indirect /Length (nil: search for "endstream").
func (p *pdfParser) object(length func(any) (int64, bool)) (any, error) {
	v, err := p.value()
	if err != nil {
		return v, err
	}
	d, isDict := v.(pdfDict)
	p.skipSpace()
	if !isDict || !p.atKeyword("stream") {
		return v, nil
	}
	p.pos += len("stream")
	// The keyword is followed by CRLF or LF; a lone CR is tolerated.
	if p.pos < len(p.b) && p.b[p.pos] == '\r' {
		p.pos++
	}
	if p.pos < len(p.b) && p.b[p.pos] == '\n' {
		p.pos++
	}
	start := p.pos
	end := -1
	if length != nil {
		if n, ok := length(d.get("Length")); ok && n >= 0 && int64(start)+n <= int64(len(p.b)) {
			// Trust /Length only if "endstream" follows it closely, as
			// readers check before they fall back to searching.
			e := start + int(n)
			after := p.b[e:min(len(p.b), e+pdfStreamSlack+len(kwEndstream))]
			if i := bytes.Index(after, kwEndstream); i >= 0 && len(bytes.TrimLeft(after[:i], "\x00\t\n\f\r ")) == 0 {
				end = e
			}
		}
	}
	if end < 0 {
		i := bytes.Index(p.b[start:], kwEndstream)
		if i < 0 {
			end = len(p.b)
		} else {
			end = start + i
			// The end-of-line before "endstream" is not data.
			if end > start && p.b[end-1] == '\n' {
				end--
			}
			if end > start && p.b[end-1] == '\r' {
				end--
			}
		}
	}
	p.pos = end
	if i := bytes.Index(p.b[end:min(len(p.b), end+pdfStreamSlack+len(kwEndstream))], kwEndstream); i >= 0 {
		p.pos = end + i + len(kwEndstream)
	}
	return &pdfStream{dict: d, data: p.b[start:end]}, nil
}

var kwEndstream = []byte("endstream")
