package domain

import (
	"strings"
	"unicode"
)

// Address comparison catches the most common rejection (32%): a business
// license address that does not match the declared operating address. It
// is a pre-submission check, so it forgives differences of writing and
// still flags different places:
//
//   - full-width letters and digits become ASCII, latin letters lower case;
//   - white space and every punctuation mark or symbol are dropped;
//   - common traditional characters become simplified (號 -> 号, 區 -> 区);
//   - Chinese numerals become digits (三楼 -> 3楼, 二十一号 -> 21号);
//   - in the leading administrative part (province, city, district), the
//     suffixes 省 and 市 and a province-level 自治区 / 特别行政区 are
//     dropped, so 广东省深圳市南山区 and 广东深圳南山区 normalize alike;
//   - AddressesMatch also accepts an address that omits leading
//     administrative levels the other one spells out (深圳市南山区科苑路15号
//     matches 广东省深圳市南山区科苑路15号).

// NormalizeAddress returns the canonical form of an address used for
// comparison (not for display).
func NormalizeAddress(s string) string {
	n, _ := normalizeAddress(s)
	return n
}

// AddressesMatch reports whether two addresses name the same place after
// normalization. An empty address matches nothing.
func AddressesMatch(registered, operating string) bool {
	a, aAdmin := normalizeAddress(registered)
	b, bAdmin := normalizeAddress(operating)
	if a == "" || b == "" {
		return false
	}
	if a == b {
		return true
	}
	if len(a) < len(b) {
		a, b = b, a
		aAdmin, bAdmin = bAdmin, aAdmin
	}
	// b may omit leading administrative levels of a: what a has in front
	// of b must lie within a's administrative part, and b must still say
	// more than administrative names.
	return strings.HasSuffix(a, b) && len(a)-len(b) <= aAdmin && bAdmin < len(b)
}

// normalizeAddress returns the normalized address and the byte length of
// its leading administrative part.
func normalizeAddress(s string) (string, int) {
	rs := make([]rune, 0, len(s))
	for _, r := range s {
		r = unicode.ToLower(foldWidth(r))
		if t, ok := traditionalToSimplified[r]; ok {
			r = t
		}
		if unicode.IsLetter(r) || unicode.IsDigit(r) || chineseDigit(r) >= 0 {
			rs = append(rs, r)
		}
	}
	// Administrative names keep their numerals (六安, 十堰); the rest
	// (floors, numbers) gets digits.
	admin, rest := splitAdmin(rs)
	return admin + string(convertChineseNumerals(rest)), len(admin)
}

// isAdminSuffix reports whether rs[i] ends an administrative name.
func isAdminSuffix(rs []rune, i int) bool {
	switch rs[i] {
	case '省', '市', '区', '县', '旗', '盟':
		return true
	case '州': // only 自治州: most city names end in 州 (广州, 杭州)
		return i >= 2 && rs[i-2] == '自' && rs[i-1] == '治'
	}
	return false
}

// notAdminEndings end names that look administrative but are places
// within a district.
var notAdminEndings = []string{"小区", "社区", "校区", "景区", "厂区", "园区"}

// provinceSuffixes are dropped from a province-level first name.
var provinceSuffixes = []string{"壮族自治区", "回族自治区", "维吾尔自治区", "自治区", "特别行政区"}

const (
	maxAdminNameRunes = 8 // 新疆维吾尔自治区
	maxAdminLevels    = 4 // province, prefecture, county, development zone
)

// splitAdmin cuts the leading administrative names (all-Han runs of 2..8
// runes ending in an administrative suffix) off rs and returns them
// normalized, with the rest.
func splitAdmin(rs []rune) (string, []rune) {
	var b strings.Builder
	pos := 0
	for level := 0; level < maxAdminLevels; level++ {
		end := -1
		for i := pos + 1; i < len(rs) && i < pos+maxAdminNameRunes; i++ {
			if !unicode.Is(unicode.Han, rs[pos]) || !unicode.Is(unicode.Han, rs[i]) {
				break
			}
			if isAdminSuffix(rs, i) {
				end = i
				break
			}
		}
		if end < 0 {
			break
		}
		name := string(rs[pos : end+1])
		excluded := false
		for _, x := range notAdminEndings {
			if strings.HasSuffix(name, x) {
				excluded = true
			}
		}
		if excluded {
			break
		}
		if level == 0 {
			for _, x := range provinceSuffixes {
				if strings.HasSuffix(name, x) && len(name) > len(x) {
					name = strings.TrimSuffix(name, x)
					break
				}
			}
		}
		name = strings.TrimSuffix(strings.TrimSuffix(name, "省"), "市")
		b.WriteString(name)
		pos = end + 1
	}
	return b.String(), rs[pos:]
}

// chineseDigit is the value of a Chinese numeral digit, -1 for other runes.
func chineseDigit(r rune) int {
	switch r {
	case '〇', '零':
		return 0
	case '一':
		return 1
	case '二':
		return 2
	case '三':
		return 3
	case '四':
		return 4
	case '五':
		return 5
	case '六':
		return 6
	case '七':
		return 7
	case '八':
		return 8
	case '九':
		return 9
	}
	return -1
}

// convertChineseNumerals rewrites runs of Chinese numerals as digits: a run
// of digits one by one (二〇一 -> 201), and a run with one 十 as a number
// below 100 (十 -> 10, 十三 -> 13, 二十 -> 20, 二十一 -> 21). Other runs (two
// 十, or two digits around 十) stay as they are.
func convertChineseNumerals(rs []rune) []rune {
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); {
		if chineseDigit(rs[i]) < 0 && rs[i] != '十' {
			out = append(out, rs[i])
			i++
			continue
		}
		j := i
		tens := -1
		for j < len(rs) && (chineseDigit(rs[j]) >= 0 || rs[j] == '十') {
			if rs[j] == '十' {
				if tens >= 0 {
					tens = -2 // more than one 十
				} else if tens == -1 {
					tens = j - i
				}
			}
			j++
		}
		run := rs[i:j]
		switch {
		case tens == -1:
			for _, r := range run {
				out = append(out, '0'+rune(chineseDigit(r)))
			}
		case tens >= 0 && tens <= 1 && len(run)-tens-1 <= 1:
			v := 10
			if tens == 1 {
				v = 10 * chineseDigit(run[0])
			}
			if tens+1 < len(run) {
				v += chineseDigit(run[tens+1])
			}
			out = append(out, []rune(smallNumber(v))...)
		default:
			out = append(out, run...)
		}
		i = j
	}
	return out
}

func smallNumber(v int) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return string([]rune{rune('0' + v/10), rune('0' + v%10)})
}

// traditionalToSimplified covers the traditional characters common in
// addresses.
var traditionalToSimplified = map[rune]rune{
	'號': '号', '區': '区', '縣': '县', '鎮': '镇', '鄉': '乡', '莊': '庄',
	'廣': '广', '東': '东', '門': '门', '樓': '楼', '層': '层', '園': '园',
	'灣': '湾', '華': '华', '國': '国', '陽': '阳', '龍': '龙', '場': '场',
	'貿': '贸', '業': '业', '廈': '厦', '島': '岛', '衛': '卫', '橋': '桥',
	'棟': '栋', '單': '单', '廠': '厂', '臺': '台', '關': '关', '濱': '滨',
	'興': '兴', '寧': '宁', '蘇': '苏', '遼': '辽', '陝': '陕', '貴': '贵',
	'雲': '云', '嶺': '岭', '豐': '丰', '慶': '庆', '漢': '汉', '連': '连',
	'嶼': '屿', '內': '内', '齊': '齐', '鄭': '郑', '濟': '济', '無': '无',
	'錫': '锡', '鳳': '凤', '塊': '块', '館': '馆', '廳': '厅', '處': '处',
	'際': '际', '樂': '乐', '開': '开', '發': '发', '達': '达', '圍': '围',
	'長': '长', '萬': '万', '雙': '双', '溝': '沟', '義': '义', '環': '环',
	'灘': '滩', '黃': '黄', '寶': '宝', '鐵': '铁', '車': '车', '廟': '庙',
	'圖': '图', '書': '书', '戶': '户', '爾': '尔', '烏': '乌', '魯': '鲁',
	'滬': '沪', '贛': '赣', '閩': '闽', '湧': '涌',
}
