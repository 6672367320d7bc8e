package domain

import "testing"

func TestCheckLineText(t *testing.T) {
	tests := []struct {
		name, in string
		wantOK   bool
	}{
		{"Chinese name", "深圳市微认证科技有限公司", true},
		{"full-width brackets and spaces", "深圳市微认证（南山）科技有限公司 分公司", true},
		{"latin, digits, punctuation", "ACME Co., Ltd. #3-101", true},
		{"ideographic space", "北京　朝阳", true},
		{"emoji", "小店😀", true},
		{"newline", "深圳市\n南山区", false},
		{"tab", "深圳市\t南山区", false},
		{"NUL", "abc\x00", false},
		{"DEL", "abc\x7f", false},
		{"C1 control", "abc\u0085", false},
		{"right-to-left override", "深圳市\u202e司公限有", false},
		{"left-to-right embedding", "a\u202ab", false},
		{"pop directional formatting", "a\u202cb", false},
		{"right-to-left isolate", "a\u2067b", false},
		{"pop directional isolate", "a\u2069b", false},
		{"right-to-left mark", "a\u200fb", false},
		{"Arabic letter mark", "a\u061cb", false},
		{"zero-width space", "微\u200b认证", false},
		{"zero-width joiner", "微\u200d认证", false},
		{"byte-order mark", "\ufeff微认证", false},
		{"line separator", "a\u2028b", false},
		{"paragraph separator", "a\u2029b", false},
		{"private use", "a\ue000b", false},
		{"noncharacter", "a\ufffeb", false},
		{"replacement character (invalid UTF-8)", "a\xffb", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := CheckLineText("name", tt.in)
			if (f == nil) != tt.wantOK {
				t.Fatalf("CheckLineText(%q) = %+v, want ok=%v", tt.in, f, tt.wantOK)
			}
			if f != nil && (f.Code != "invalid_characters" || f.Field != "name" || f.Message.Zh == "" || f.Message.En == "") {
				t.Fatalf("field error %+v", f)
			}
		})
	}
}
