package domain

import (
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
)

var idTestNow = time.Date(2026, 9, 24, 10, 0, 0, 0, time.UTC)

// codeOfErr is the code of err as the API would show it, "" for nil.
func codeOfErr(err error) string {
	if err == nil {
		return ""
	}
	return CodeOf(err)
}

func TestValidateUSCC(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // error code, "" for valid
	}{
		{"tencent (real, published)", "9144030071526726XG", ""},
		{"sample from the standard's commentary", "91350100M000100Y43", ""},
		{"lower case and blanks are normalized", " 9144 0300 7152 6726 xg ", ""},
		{"full-width characters are normalized", "９１４４０３００７１５２６７２６ＸＧ", ""},
		{"wrong check character", "9144030071526726XH", "invalid_uscc"},
		{"typo in the body", "9144030071526727XG", "invalid_uscc"},
		{"17 characters", "9144030071526726X", "invalid_uscc"},
		{"19 characters", "9144030071526726XGA", "invalid_uscc"},
		{"empty", "", "invalid_uscc"},
		{"letter I not in alphabet", "9144030071526726IG", "invalid_uscc"},
		{"letter O not in alphabet", "91440300O1526726XG", "invalid_uscc"},
		{"letter Z not in alphabet", "914403007152672ZXG", "invalid_uscc"},
		{"letter S not in alphabet", "914403007152672SXG", "invalid_uscc"},
		{"letter V not in alphabet", "914403007152672VXG", "invalid_uscc"},
		{"unknown authority 0", withUSCCCheck("01440300715267260"), "invalid_uscc"},
		{"unknown authority B", withUSCCCheck("B1440300715267260"), "invalid_uscc"},
		{"authority 9 has no category 9", withUSCCCheck("99440300715267260"), "invalid_uscc"},
		{"authority Y has only category 1", withUSCCCheck("Y2440300715267260"), "invalid_uscc"},
		{"authority Y category 1", withUSCCCheck("Y1440300715267260"), ""},
		{"authority 1 category 9", withUSCCCheck("19440300715267260"), ""},
		{"authority 5 category 3", withUSCCCheck("53440300715267260"), ""},
		{"authority 3 category 5", withUSCCCheck("35440300715267260"), ""},
		{"authority N category 2", withUSCCCheck("N2440300715267260"), ""},
		{"authority A category 2 not in table", withUSCCCheck("A2440300715267260"), "invalid_uscc"},
		{"letter in the division code", withUSCCCheck("9144A300715267260"), "invalid_uscc"},
		{"non-ASCII", "9144030071526726X中", "invalid_uscc"},
		{"sample 0", SampleUSCC(0), ""},
		{"sample 12345", SampleUSCC(12345), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateUSCC(tt.in)
			if diff := cmp.Diff(tt.want, codeOfErr(err)); diff != "" {
				t.Errorf("ValidateUSCC(%q) code (-want +got):\n%s", tt.in, diff)
			}
			if err != nil {
				if KindOf(err) != KindInvalid {
					t.Errorf("kind = %v, want invalid", KindOf(err))
				}
				var e *Error = err.(*Error)
				if e.Message.Zh == "" || e.Message.En == "" {
					t.Errorf("message missing a language: %+v", e.Message)
				}
			}
		})
	}
}

// withUSCCCheck appends the reference check character.
func withUSCCCheck(body string) string { return body + string(refUSCCCheck(body)) }

func TestNormalizeUSCC(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"already canonical", "9144030071526726XG", "9144030071526726XG"},
		{"trim and upper", "  9144030071526726xg\t", "9144030071526726XG"},
		{"inner and ideographic spaces", "914403　0071526726 XG", "9144030071526726XG"},
		{"full width", "９１４４０３００７１５２６７２６ｘｇ", "9144030071526726XG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, NormalizeUSCC(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateIDNumber(t *testing.T) {
	tests := []struct {
		name string
		in   string
		now  time.Time
		want string
	}{
		{"example of GB 11643 with X", "11010519491231002X", idTestNow, ""},
		{"lower-case x", "11010519491231002x", idTestNow, ""},
		{"blanks", " 110105 19491231 002X ", idTestNow, ""},
		{"wrong check character", "110105194912310021", idTestNow, "invalid_id_number"},
		{"X where a digit is due", "11010519491231001X", idTestNow, "invalid_id_number"},
		{"standard example born 1880 (checksum ok) is before 1900", "440524188001010014", idTestNow, "invalid_id_number"},
		{"born 1900-01-01", withIDCheck("11010119000101001"), idTestNow, ""},
		{"born 1899-12-31", withIDCheck("11010118991231001"), idTestNow, "invalid_id_number"},
		{"29 Feb in a leap year", withIDCheck("11010120000229001"), idTestNow, ""},
		{"29 Feb in a common year", withIDCheck("11010119990229001"), idTestNow, "invalid_id_number"},
		{"1900 was not a leap year", withIDCheck("11010119000229001"), idTestNow, "invalid_id_number"},
		{"month 13", withIDCheck("11010119901301001"), idTestNow, "invalid_id_number"},
		{"month 00", withIDCheck("11010119900001001"), idTestNow, "invalid_id_number"},
		{"day 00", withIDCheck("11010119900100001"), idTestNow, "invalid_id_number"},
		{"31 April", withIDCheck("11010119900431001"), idTestNow, "invalid_id_number"},
		{"born today (Beijing)", withIDCheck("11010120260924001"), idTestNow, ""},
		{"born tomorrow", withIDCheck("11010120260925001"), idTestNow, "invalid_id_number"},
		{"born 'tomorrow' in UTC but today in Beijing", withIDCheck("11010120260925001"),
			time.Date(2026, 9, 24, 17, 0, 0, 0, time.UTC), ""},
		{"17 digits", "11010519491231002", idTestNow, "invalid_id_number"},
		{"15-digit first-generation number", "110105491231002", idTestNow, "invalid_id_number"},
		{"letter inside", "1101051949123100AX", idTestNow, "invalid_id_number"},
		{"empty", "", idTestNow, "invalid_id_number"},
		{"sample 0", SampleIDNumber(0), idTestNow, ""},
		{"sample max", SampleIDNumber(18261999), idTestNow, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateIDNumber(tt.in, tt.now)
			if diff := cmp.Diff(tt.want, codeOfErr(err)); diff != "" {
				t.Errorf("ValidateIDNumber(%q) code (-want +got):\n%s", tt.in, diff)
			}
			if err != nil && KindOf(err) != KindInvalid {
				t.Errorf("kind = %v, want invalid", KindOf(err))
			}
		})
	}
}

func withIDCheck(body string) string { return body + string(refIDCheck(body)) }

func TestPhone(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		normal    string
		wantError string
	}{
		{"plain", "13812345678", "13812345678", ""},
		{"+86 prefix", "+8613812345678", "13812345678", ""},
		{"+86 with blanks and hyphens", "+86 138-1234-5678", "13812345678", ""},
		{"0086 prefix", "008619912345678", "19912345678", ""},
		{"86 prefix", "8615012345678", "15012345678", ""},
		{"full width", "１３８１２３４５６７８", "13812345678", ""},
		{"second digit 2", "12812345678", "12812345678", "invalid_phone"},
		{"second digit 0", "10812345678", "10812345678", "invalid_phone"},
		{"10 digits", "1381234567", "1381234567", "invalid_phone"},
		{"12 digits", "138123456789", "138123456789", "invalid_phone"},
		{"landline", "075512345678", "075512345678", "invalid_phone"},
		{"other country", "+14155550100", "+14155550100", "invalid_phone"},
		{"letters", "1381234567a", "1381234567a", "invalid_phone"},
		{"empty", "", "", "invalid_phone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.normal, NormalizePhone(tt.in)); diff != "" {
				t.Errorf("NormalizePhone (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantError, codeOfErr(ValidatePhone(tt.in))); diff != "" {
				t.Errorf("ValidatePhone code (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMasks(t *testing.T) {
	tests := []struct {
		name string
		fn   func(string) string
		in   string
		want string
	}{
		{"id number", MaskIDNumber, "11010519491231002X", "1101**********002X"},
		{"id number lower x", MaskIDNumber, "11010519491231002x", "1101**********002X"},
		{"id number short", MaskIDNumber, "1234567", "*******"},
		{"id number empty", MaskIDNumber, "", ""},
		{"account", MaskAccount, "6222021234567891234", "**** 1234"},
		{"account with blanks", MaskAccount, "6222 0212 3456 7891 234", "**** 1234"},
		{"account of 4", MaskAccount, "1234", "****"},
		{"phone", MaskPhone, "13812345678", "138****5678"},
		{"phone with +86", MaskPhone, "+86 13812345678", "138****5678"},
		{"phone short", MaskPhone, "1234567", "*******"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.fn(tt.in)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestSamples(t *testing.T) {
	usccs := map[string]int{}
	ids := map[string]int{}
	for seed := 0; seed < 5000; seed++ {
		u, id := SampleUSCC(seed), SampleIDNumber(seed)
		if err := ValidateUSCC(u); err != nil {
			t.Fatalf("SampleUSCC(%d) = %q: %v", seed, u, err)
		}
		if err := ValidateIDNumber(id, idTestNow); err != nil {
			t.Fatalf("SampleIDNumber(%d) = %q: %v", seed, id, err)
		}
		if prev, dup := usccs[u]; dup {
			t.Fatalf("SampleUSCC(%d) = SampleUSCC(%d) = %q", seed, prev, u)
		}
		if prev, dup := ids[id]; dup {
			t.Fatalf("SampleIDNumber(%d) = SampleIDNumber(%d) = %q", seed, prev, id)
		}
		usccs[u], ids[id] = seed, seed
	}
	for _, seed := range []int{-1, -987654321, 1 << 40} {
		if err := ValidateUSCC(SampleUSCC(seed)); err != nil {
			t.Errorf("SampleUSCC(%d): %v", seed, err)
		}
		if err := ValidateIDNumber(SampleIDNumber(seed), idTestNow); err != nil {
			t.Errorf("SampleIDNumber(%d): %v", seed, err)
		}
	}
}

// ---- reference implementations for the fuzz targets, written from the
// standards independently of the code under test ----

// refUSCCValue: the standard's table lists 0-9 as 0-9 and then A=10 ... Y=30
// skipping I, O, S, V, Z.
func refUSCCValue(c byte) int {
	if c >= '0' && c <= '9' {
		return int(c - '0')
	}
	v := 10
	for l := byte('A'); l <= 'Z'; l++ {
		if strings.IndexByte("IOSVZ", l) >= 0 {
			continue
		}
		if l == c {
			return v
		}
		v++
	}
	return -1
}

func refUSCCCheck(body string) byte {
	sum, w := 0, 1
	for i := 0; i < 17; i++ {
		sum += refUSCCValue(body[i]) * w
		w = w * 3 % 31 // weights are 3^(i) mod 31
	}
	c := 31 - sum%31
	if c == 31 {
		c = 0
	}
	for x := byte(0); x < 128; x++ {
		if refUSCCValue(x) == c {
			return x
		}
	}
	return '?'
}

// refCompact drops white space rune by rune. Joining strings.Fields
// would glue the bytes of a multi-byte character split by white space
// back together, and take "\xef\xbc\n\x99" for a full-width nine.
func refCompact(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}

func refUSCCValid(s string) bool {
	s = strings.ToUpper(refCompact(s))
	// full-width folding, as documented
	s = strings.Map(func(r rune) rune {
		if r >= 'ａ' && r <= 'ｚ' {
			return r - 'ａ' + 'A'
		}
		if r >= 'Ａ' && r <= 'Ｚ' || r >= '０' && r <= '９' {
			return r - 0xFEE0
		}
		return r
	}, s)
	s = strings.ToUpper(s)
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 18; i++ {
		if refUSCCValue(s[i]) < 0 {
			return false
		}
	}
	allowed := map[string]bool{}
	for auth, cats := range map[string]string{"1": "1239", "5": "1239", "9": "123", "Y": "1", "2": "19", "3": "123459", "4": "19", "6": "129", "7": "129", "8": "19", "A": "19", "N": "1239"} {
		for _, c := range cats {
			allowed[auth+string(c)] = true
		}
	}
	if !allowed[s[:2]] {
		return false
	}
	for _, c := range s[2:8] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return refUSCCCheck(s[:17]) == s[17]
}

func refIDCheck(body string) byte {
	// ISO 7064 MOD 11-2: weights 2^(17-i) mod 11, check = (12 - sum mod 11) mod 11, 10 -> X
	sum := 0
	for i := 0; i < 17; i++ {
		w := 1
		for k := 0; k < 17-i; k++ {
			w = w * 2 % 11
		}
		sum += int(body[i]-'0') * w
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return 'X'
	}
	return byte('0' + c)
}

func refIDValid(s string, now time.Time) bool {
	s = strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' || r == 'ｘ' || r == 'Ｘ' {
			return r - 0xFEE0
		}
		return r
	}, refCompact(s))
	s = strings.ToUpper(s)
	if len(s) != 18 {
		return false
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 {
		return false
	}
	bjTime := now.In(time.FixedZone("UTC+8", 8*3600))
	today := time.Date(bjTime.Year(), bjTime.Month(), bjTime.Day(), 0, 0, 0, 0, time.UTC)
	if birth.After(today) {
		return false
	}
	return refIDCheck(s[:17]) == s[17]
}

func FuzzValidateUSCC(f *testing.F) {
	for _, s := range []string{"9144030071526726XG", "91350100M000100Y43", "9144030071526726XH", "", "y1440300715267260a", "９１４４０３００７１５２６７２６ＸＧ", SampleUSCC(7)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateUSCC(s)
		if err != nil && (CodeOf(err) != "invalid_uscc" || KindOf(err) != KindInvalid) {
			t.Fatalf("ValidateUSCC(%q) = %v, want invalid_uscc", s, err)
		}
		if got, want := err == nil, refUSCCValid(s); got != want {
			t.Fatalf("ValidateUSCC(%q) valid = %v, reference says %v", s, got, want)
		}
		// valid codes survive normalization and masking without panics
		_ = NormalizeUSCC(s)
	})
}

func FuzzValidateIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "440524188001010014", "", "11010120000229001X", SampleIDNumber(42), "１１０１０５１９４９１２３１００２Ｘ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateIDNumber(s, idTestNow)
		if err != nil && (CodeOf(err) != "invalid_id_number" || KindOf(err) != KindInvalid) {
			t.Fatalf("ValidateIDNumber(%q) = %v, want invalid_id_number", s, err)
		}
		if got, want := err == nil, refIDValid(s, idTestNow); got != want {
			t.Fatalf("ValidateIDNumber(%q) valid = %v, reference says %v", s, got, want)
		}
		_ = MaskIDNumber(s)
	})
}
