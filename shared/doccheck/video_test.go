package doccheck

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	fx "microcert/shared/doccheck/doccheckfixtures"
	"microcert/shared/domain"
)

// box builds an ISO base media box.
func box(typ string, payload ...[]byte) []byte {
	p := bytes.Join(payload, nil)
	b := binary.BigEndian.AppendUint32(nil, uint32(8+len(p)))
	return append(append(b, typ...), p...)
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }
func be64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

var ftypMP4 = box("ftyp", []byte("mp42"), be32(0), []byte("mp42isom"))

func mvhd0(timescale, duration uint32) []byte {
	return box("mvhd", []byte{0, 0, 0, 0}, be32(0), be32(0), be32(timescale), be32(duration), make([]byte, 80))
}

func trak(handler string) []byte {
	return box("trak", box("tkhd", make([]byte, 84)),
		box("mdia", box("hdlr", make([]byte, 8), []byte(handler), make([]byte, 13))))
}

func checkVideoBytes(r io.Reader) Result {
	res := Result{RealType: TypeMP4, Metrics: map[string]float64{}}
	checkVideo(&res, SpecFor(domain.DocOfficeVideo), bufio.NewReaderSize(r, readBufSize))
	res.finish()
	return res
}

func TestCheckVideo(t *testing.T) {
	moov15 := box("moov", mvhd0(1000, 15000), trak("vide"))
	largeMdat := append(append(be32(1), "mdat"...), be64(16+4096)...)
	largeMdat = append(largeMdat, make([]byte, 4096)...)
	tests := []struct {
		name     string
		data     []byte
		want     []string
		duration float64
	}{
		{"fixture MP4 15 s", fx.MP4(15), nil, 15},
		{"fixture MP4 5 s", fx.MP4(5), []string{CodeVideoTooShort}, 5},
		{"fixture MOV, moov last, mvhd v1", fx.MOV(12), nil, 12},
		{"exactly the minimum", bytes.Join([][]byte{ftypMP4, box("moov", mvhd0(600, 6000), trak("vide"))}, nil), nil, 10},
		{"64-bit box size", bytes.Join([][]byte{ftypMP4, largeMdat, moov15}, nil), nil, 15},
		{"mdat running to the end of the file", bytes.Join([][]byte{ftypMP4, moov15, be32(0), []byte("mdat"), make([]byte, 5000)}, nil), nil, 15},
		{"fragmented: duration from mehd", bytes.Join([][]byte{ftypMP4,
			box("moov", mvhd0(1000, 0), trak("vide"), box("mvex", box("mehd", []byte{0, 0, 0, 0}, be32(20000)))),
			box("moof", make([]byte, 16)), box("mdat", make([]byte, 100))}, nil), nil, 20},
		{"audio only", bytes.Join([][]byte{ftypMP4, box("moov", mvhd0(1000, 15000), trak("soun"))}, nil), []string{CodeVideoNoTrack}, 15},
		{"no moov", bytes.Join([][]byte{ftypMP4, box("mdat", make([]byte, 100))}, nil), []string{CodeUnreadable}, -1},
		{"timescale 0", bytes.Join([][]byte{ftypMP4, box("moov", mvhd0(0, 15000), trak("vide"))}, nil), []string{CodeUnreadable}, -1},
		{"short mvhd", bytes.Join([][]byte{ftypMP4, box("moov", box("mvhd", make([]byte, 10)))}, nil), []string{CodeUnreadable}, -1},
		{"truncated mdat", append(bytes.Join([][]byte{ftypMP4, moov15}, nil), box("mdat", make([]byte, 100))[:50]...), []string{CodeUnreadable}, -1},
		{"child box larger than its parent", bytes.Join([][]byte{ftypMP4, box("moov", be32(500), []byte("trak"), make([]byte, 8))}, nil), []string{CodeUnreadable}, -1},
		{"box size below its header", bytes.Join([][]byte{ftypMP4, be32(4), []byte("free")}, nil), []string{CodeUnreadable}, -1},
		{"trailing half header", bytes.Join([][]byte{ftypMP4, moov15, []byte{0, 0}}, nil), []string{CodeUnreadable}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := checkVideoBytes(bytes.NewReader(tt.data))
			want := tt.want
			if want == nil {
				want = []string{}
			}
			if diff := cmp.Diff(want, res.Codes()); diff != "" {
				t.Errorf("codes (-want +got):\n%s", diff)
			}
			if got, ok := res.Metrics["durationSeconds"]; tt.duration >= 0 && got != tt.duration || tt.duration < 0 && ok {
				t.Errorf("durationSeconds = %v (set %v), want %v", got, ok, tt.duration)
			}
		})
	}
}

// bigMovie streams an MP4 with a large mdat without holding it in memory.
func bigMovie(mdatSize int64, moovFirst bool) io.Reader {
	moov := box("moov", mvhd0(1000, 30000), trak("vide"))
	hdr := append(be32(1), "mdat"...)
	hdr = append(hdr, be64(uint64(16+mdatSize))...)
	mdat := io.MultiReader(bytes.NewReader(hdr), io.LimitReader(endless(0x5a), mdatSize))
	if moovFirst {
		return io.MultiReader(bytes.NewReader(ftypMP4), bytes.NewReader(moov), mdat)
	}
	return io.MultiReader(bytes.NewReader(ftypMP4), mdat, bytes.NewReader(moov))
}

// TestCheckVideoStreamsMediaData walks a 90 MB video with moov after mdat:
// memory stays flat (the media data is never buffered) and every byte is
// read and hashed.
func TestCheckVideoStreamsMediaData(t *testing.T) {
	const mdatSize = 90 << 20
	cr := &countingReader{r: bigMovie(mdatSize, false)}
	before := totalAlloc()
	res, err := Check(Input{DocType: domain.DocOfficeVideo, DeclaredContentType: TypeMP4}, cr)
	alloc := totalAlloc() - before
	if err != nil {
		t.Fatal(err)
	}
	if !res.Passed || res.Metrics["durationSeconds"] != 30 {
		t.Errorf("codes %v, metrics %v", res.Codes(), res.Metrics)
	}
	if alloc > 1<<20 {
		t.Errorf("allocated %d bytes for a 90 MB video, want < 1 MB", alloc)
	}
	if want := int64(len(ftypMP4)) + 16 + mdatSize; cr.n < want || res.SHA256 == "" {
		t.Errorf("read %d bytes (SHA %q), want all %d+", cr.n, res.SHA256, want)
	}
}

func TestCheckVideoBoxFlood(t *testing.T) {
	// 200,000 empty boxes: refused after the cap instead of walked forever.
	flood := bytes.Repeat(box("free"), 200_000)
	res := checkVideoBytes(io.MultiReader(bytes.NewReader(ftypMP4), bytes.NewReader(flood)))
	if diff := cmp.Diff([]string{CodeUnreadable}, res.Codes()); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
