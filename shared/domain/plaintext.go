package domain

import (
	"fmt"
	"unicode"
)

// CheckLineText refuses, in a name or an address, what has no place there
// and only serves to make one string look like another: control characters
// (C0, DEL and C1: newlines and tabs too), format characters (Cf: the
// bidirectional embeddings, overrides and isolates U+202A-202E and
// U+2066-2069, the marks U+200E, U+200F and U+061C, zero-width characters,
// the byte-order mark), line and paragraph separators (U+2028, U+2029),
// private-use code points and noncharacters. A right-to-left override in
// a company name shows reviewers one name and stores another ("Trojan
// Source"); an invisible character makes two names that look alike
// compare differently. The code is invalid_characters, the message names
// the first such character.
func CheckLineText(field, s string) *FieldError {
	for i, r := range s {
		if !lineRune(r) {
			cp := fmt.Sprintf("U+%04X", r)
			return &FieldError{Field: field, Code: "invalid_characters", Message: Text{
				Zh: fmt.Sprintf("%s 含有不允许的字符 %s（第 %d 字节）：名称和地址中不能有控制字符、双向文本控制符或不可见字符。", field, cp, i+1),
				En: fmt.Sprintf("%s contains the character %s (byte %d): names and addresses cannot hold control, bidirectional-override or invisible characters.", field, cp, i+1),
			}}
		}
	}
	return nil
}

// lineRune reports whether r may appear in a name or an address.
func lineRune(r rune) bool {
	switch {
	case r == unicode.ReplacementChar: // what invalid UTF-8 decodes to
		return false
	case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zl, unicode.Zp):
		return false
	case r >= 0xFDD0 && r <= 0xFDEF, r&0xFFFE == 0xFFFE: // noncharacters
		return false
	}
	return true
}
