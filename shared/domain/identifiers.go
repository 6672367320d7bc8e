package domain

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ---- Unified Social Credit Code (GB 32100-2015) ----

// usccAlphabet is the code's character set in value order: digits, then the
// capital letters without I, O, S, V and Z (31 characters, values 0..30).
const usccAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the weights of positions 1..17 (3^(i-1) mod 31).
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// usccCategories maps each registration-authority code (position 1) to the
// organisation-category codes (position 2) the standard's table allows
// under it.
var usccCategories = map[byte]string{
	'1': "1239", // 机构编制
	'2': "19",   // 外交
	'3': "123459",
	'4': "19",
	'5': "1239", // 民政
	'6': "129",
	'7': "129",
	'8': "19",
	'9': "123", // 工商 (enterprises, individual businesses, cooperatives)
	'A': "19",
	'N': "1239",
	'Y': "1", // 其他
}

// NormalizeUSCC removes every blank (also inside, and full-width ones),
// folds full-width letters and digits to ASCII and upper-cases: what users
// type on a phone keyboard becomes the canonical 18-character form.
func NormalizeUSCC(s string) string {
	return strings.ToUpper(foldCompact(s))
}

// ValidateUSCC checks a Unified Social Credit Code after NormalizeUSCC:
// length, alphabet, registration authority and category, the 6-digit
// administrative division code, and the MOD 31 check character.
func ValidateUSCC(s string) error {
	s = NormalizeUSCC(s)
	if len(s) != 18 {
		return usccError("长度应为18位。", "must be 18 characters long.")
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(usccAlphabet, s[i]) < 0 {
			return usccError("只能包含数字和除I、O、S、V、Z外的大写字母。",
				"may contain only digits and capital letters other than I, O, S, V and Z.")
		}
	}
	if cats, ok := usccCategories[s[0]]; !ok || strings.IndexByte(cats, s[1]) < 0 {
		return usccError("前两位登记管理部门和机构类别代码无效。",
			"the registration authority and category (first two characters) are not valid.")
	}
	for i := 2; i < 8; i++ {
		if s[i] < '0' || s[i] > '9' {
			return usccError("第3至8位应为行政区划代码（6位数字）。",
				"characters 3-8 must be a 6-digit administrative division code.")
		}
	}
	if usccCheckChar(s[:17]) != s[17] {
		return usccError("校验码不正确，请核对营业执照。", "the check character is wrong; compare it with the business license.")
	}
	return nil
}

// usccCheckChar computes the 18th character for the first 17 (which must
// be in the alphabet).
func usccCheckChar(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += strings.IndexByte(usccAlphabet, body[i]) * usccWeights[i]
	}
	return usccAlphabet[(31-sum%31)%31]
}

func usccError(zh, en string) *Error {
	return E(KindInvalid, "invalid_uscc", "统一社会信用代码无效："+zh, "Invalid unified social credit code: "+en)
}

// ---- Resident ID number (GB 11643-1999) ----

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars[sum mod 11] is the ISO 7064 MOD 11-2 check character.
const idCheckChars = "10X98765432"

// NormalizeIDNumber removes blanks, folds full-width characters and
// upper-cases the check character x.
func NormalizeIDNumber(s string) string {
	return strings.ToUpper(foldCompact(s))
}

// ValidateIDNumber checks an 18-digit resident ID number after
// NormalizeIDNumber: digits (the last may be X), a real birth date between
// 1900-01-01 and today (Beijing) and the MOD 11-2 check character. The
// 6-digit address code is checked for digits only: residence permits and
// the 2023 foreigners' permanent residence cards use codes outside the
// province table.
func ValidateIDNumber(s string, now time.Time) error {
	s = NormalizeIDNumber(s)
	if len(s) != 18 {
		return idError("长度应为18位。", "must be 18 characters long.")
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return idError("前17位应为数字。", "the first 17 characters must be digits.")
		}
	}
	if (s[17] < '0' || s[17] > '9') && s[17] != 'X' {
		return idError("最后一位应为数字或X。", "the last character must be a digit or X.")
	}
	y, m, d := parseDigits(s[6:10]), parseDigits(s[10:12]), parseDigits(s[12:14])
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if y < 1900 || m < 1 || m > 12 || d < 1 || birth.Day() != d || birth.Month() != time.Month(m) {
		return idError("出生日期无效。", "the birth date is not a valid date.")
	}
	if birth.After(beijingDate(now)) {
		return idError("出生日期不能晚于今天。", "the birth date is in the future.")
	}
	if idCheckChar(s[:17]) != s[17] {
		return idError("校验码不正确，请核对身份证。", "the check character is wrong; compare it with the ID card.")
	}
	return nil
}

func idCheckChar(body string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

func idError(zh, en string) *Error {
	return E(KindInvalid, "invalid_id_number", "身份证号码无效："+zh, "Invalid resident ID number: "+en)
}

// parseDigits parses a short all-digit string (already checked).
func parseDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// ---- Mobile phone ----

// NormalizePhone removes blanks, hyphens and brackets, folds full-width
// digits, and drops a mainland country prefix (+86, 0086, or 86 before 11
// digits). It does not validate.
func NormalizePhone(s string) string {
	s = foldCompact(s)
	s = strings.Map(func(r rune) rune {
		switch r {
		case '-', '(', ')', '.':
			return -1
		}
		return r
	}, s)
	switch {
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	case strings.HasPrefix(s, "86") && len(s) == 13:
		s = s[2:]
	}
	return s
}

// ValidatePhone checks a mainland mobile number (1[3-9] and 9 more digits)
// after NormalizePhone.
func ValidatePhone(s string) error {
	s = NormalizePhone(s)
	ok := len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9'
	for i := 2; ok && i < len(s); i++ {
		ok = s[i] >= '0' && s[i] <= '9'
	}
	if !ok {
		return E(KindInvalid, "invalid_phone", "手机号码无效：应为11位中国大陆手机号。",
			"Invalid phone number: expected an 11-digit mainland China mobile number.")
	}
	return nil
}

// ---- Masking (identifiers in responses are masked) ----

// MaskIDNumber keeps the first and last 4 characters of an ID number and
// stars the rest: "1101**********002X". Values of 8 characters or fewer are
// starred entirely.
func MaskIDNumber(s string) string { return maskMiddle(NormalizeIDNumber(s), 4, 4) }

// MaskPhone keeps the first 3 and last 4 digits: "138****5678".
func MaskPhone(s string) string { return maskMiddle(NormalizePhone(s), 3, 4) }

// MaskAccount shows only the last 4 characters of a bank account:
// "**** 1234". Accounts of 4 characters or fewer show "****".
func MaskAccount(s string) string {
	r := []rune(foldCompact(s))
	if len(r) <= 4 {
		return "****"
	}
	return "**** " + string(r[len(r)-4:])
}

func maskMiddle(s string, head, tail int) string {
	r := []rune(s)
	if len(r) <= head+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:head]) + strings.Repeat("*", len(r)-head-tail) + string(r[len(r)-tail:])
}

// ---- shared helpers ----

// foldCompact folds full-width ASCII variants (U+FF01..U+FF5E) to ASCII and
// drops every white-space rune (including the ideographic space U+3000).
func foldCompact(s string) string {
	if isCompactASCII(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		if r = foldWidth(r); !unicode.IsSpace(r) {
			b.WriteRune(r) // invalid UTF-8 becomes U+FFFD and stays invalid
		}
	}
	return b.String()
}

func isCompactASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= utf8.RuneSelf || c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}

// foldWidth maps a full-width ASCII variant or the ideographic space to its
// ASCII counterpart.
func foldWidth(r rune) rune {
	switch {
	case r >= 0xFF01 && r <= 0xFF5E:
		return r - 0xFF01 + '!'
	case r == 0x3000:
		return ' '
	}
	return r
}
