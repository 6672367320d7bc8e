// Package statements reads and writes the daily statements that the
// reconciliation job compares with our records:
//
//   - the payment provider's trade bill, modelled on WeChat Pay's "ALL"
//     bill: one CSV line per payment or refund with the order id, the
//     provider's transaction id, the settled amount, the refund ids and
//     amount, the fee and the status; every value starts with a backtick
//     (so that spreadsheets keep long ids as text); amounts are yuan with
//     two decimals; a summary header and line close the file;
//   - the bank's statement of micro-deposit payouts: one line per transfer
//     with our transfer reference, in the same conventions.
//
// Both live in the documents bucket under statements/<source>/<day>.csv,
// the Beijing day they cover. The provider (locally: the sandbox) writes
// them; the job reads them. Amounts are parsed into integer fen exactly.
package statements

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"microcert/shared/domain"
)

// Prefix is the key prefix of every statement in the bucket.
const Prefix = "statements/"

// Key is where the statement of source for a Beijing day is stored.
func Key(source domain.ReconSource, day string) string {
	return Prefix + string(source) + "/" + day + ".csv"
}

// tradeHeader is WeChat Pay's trade bill header (type ALL).
var tradeHeader = []string{"交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识",
	"交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
	"充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注"}

// Column indexes of tradeHeader.
const (
	colTime = iota
	colAppID
	colMchID
	colSubMchID
	colDevice
	colTxnID
	colOrderID
	colOpenID
	colTradeType
	colTradeStatus
	colBank
	colCurrency
	colSettleFen
	colCouponFen
	colProviderRefundID
	colRefundKey
	colRefundFen
	colCouponRefundFen
	colRefundType
	colRefundStatus
	colGoods
	colAttach
	colFee
	colRate
	colOrderFen
	colRefundAskFen
	colRateNote
)

var tradeSummaryHeader = []string{"总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额", "申请退款总金额"}

// bankHeader is the bank's payout statement header.
var bankHeader = []string{"交易时间", "商户转账单号", "银行流水号", "收款账号尾号", "金额", "币种", "状态"}

var bankSummaryHeader = []string{"总笔数", "总金额"}

// Trade is one line of the provider's trade bill.
type Trade struct {
	At            time.Time
	TransactionID string
	OrderID       string
	// Refund is set for refund lines (交易状态 REFUND).
	Refund           bool
	SettledFen       int64 // the payment's settled amount
	ProviderRefundID string
	RefundKey        string // our refund request id (商户退款单号)
	RefundFen        int64
	RefundStatus     string // SUCCESS, PROCESSING, FAIL, ...
	TradeStatus      string // SUCCESS, REFUND, REVOKED, ...
	FeeFen           int64  // negative on refunds (the fee given back)
}

// Payout is one line of the bank's statement.
type Payout struct {
	At        time.Time
	Reference string // our transfer reference (Payout.ID)
	BankRef   string
	Last4     string
	AmountFen int64
	Status    string // SUCCESS, FAIL
}

// FeeRate is the provider's fee in basis points (0.60%); the fee of a line
// is rounded half up to whole fen.
const FeeRate = 60

// Fee is the provider's fee for amount fen.
func Fee(fen int64) int64 { return (fen*FeeRate + 5000) / 10000 }

// clock layout of the statements (Beijing time).
const timeLayout = "2006-01-02 15:04:05"

func cell(s string) string { return "`" + s }

// WriteTrades renders a trade bill.
func WriteTrades(appID, mchID string, lines []Trade) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(tradeHeader)
	var settled, refunded, fees, asked int64
	for _, t := range lines {
		row := make([]string, len(tradeHeader))
		for i := range row {
			row[i] = cell("")
		}
		row[colTime] = cell(t.At.In(domain.Beijing()).Format(timeLayout))
		row[colAppID], row[colMchID], row[colSubMchID] = cell(appID), cell(mchID), cell("0")
		row[colTxnID], row[colOrderID], row[colOpenID] = cell(t.TransactionID), cell(t.OrderID), cell("o"+t.TransactionID)
		row[colTradeType], row[colBank], row[colCurrency] = cell("NATIVE"), cell("OTHERS"), cell("CNY")
		row[colSettleFen], row[colCouponFen] = cell(domain.Yuan(t.SettledFen)), cell("0.00")
		row[colOrderFen] = cell(domain.Yuan(t.SettledFen))
		row[colGoods] = cell("微信认证审核费")
		row[colFee], row[colRate] = cell(domain.Yuan(t.FeeFen)), cell("0.60%")
		row[colCouponRefundFen] = cell("0.00")
		if t.Refund {
			row[colTradeStatus] = cell("REFUND")
			row[colProviderRefundID], row[colRefundKey] = cell(t.ProviderRefundID), cell(t.RefundKey)
			row[colRefundFen], row[colRefundAskFen] = cell(domain.Yuan(t.RefundFen)), cell(domain.Yuan(t.RefundFen))
			row[colRefundType], row[colRefundStatus] = cell("ORIGINAL"), cell(t.RefundStatus)
			if t.RefundStatus == "SUCCESS" {
				refunded += t.RefundFen
			}
			asked += t.RefundFen
		} else {
			row[colTradeStatus] = cell(t.TradeStatus)
			row[colProviderRefundID], row[colRefundKey] = cell("0"), cell("0")
			row[colRefundFen], row[colRefundAskFen] = cell("0.00"), cell("0.00")
			settled += t.SettledFen
		}
		fees += t.FeeFen
		_ = w.Write(row)
	}
	_ = w.Write(tradeSummaryHeader)
	_ = w.Write([]string{cell(fmt.Sprint(len(lines))), cell(domain.Yuan(settled)), cell(domain.Yuan(refunded)), cell("0.00"),
		cell(domain.Yuan(fees)), cell(domain.Yuan(settled)), cell(domain.Yuan(asked))})
	w.Flush()
	return buf.Bytes()
}

// WritePayouts renders a bank statement.
func WritePayouts(lines []Payout) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write(bankHeader)
	var total int64
	for _, p := range lines {
		_ = w.Write([]string{cell(p.At.In(domain.Beijing()).Format(timeLayout)), cell(p.Reference), cell(p.BankRef),
			cell(p.Last4), cell(domain.Yuan(p.AmountFen)), cell("CNY"), cell(p.Status)})
		if p.Status == "SUCCESS" {
			total += p.AmountFen
		}
	}
	_ = w.Write(bankSummaryHeader)
	_ = w.Write([]string{cell(fmt.Sprint(len(lines))), cell(domain.Yuan(total))})
	w.Flush()
	return buf.Bytes()
}

// ErrMalformed is the error of a statement that is not in the format.
var ErrMalformed = errors.New("statement: malformed")

func malformed(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...)
}

// maxLines bounds a statement (far above a day of this service).
const maxLines = 1_000_000

// readRows splits a statement into its lines and its summary, checking the
// headers; values lose their backtick.
func readRows(raw []byte, header, summary []string) ([][]string, []string, error) {
	raw = bytes.TrimPrefix(raw, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	r.ReuseRecord = false
	first, err := r.Read()
	if err != nil || !sameRow(first, header) {
		return nil, nil, malformed("the header is not %q", strings.Join(header[:3], ","))
	}
	var rows [][]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return nil, nil, malformed("no summary")
		}
		if err != nil {
			return nil, nil, malformed("line %d: %v", len(rows)+2, err)
		}
		if sameRow(rec, summary) {
			sum, err := r.Read()
			if err != nil || len(sum) != len(summary) {
				return nil, nil, malformed("summary line")
			}
			if _, err := r.Read(); err != io.EOF {
				return nil, nil, malformed("text after the summary")
			}
			return rows, unquote(sum), nil
		}
		if len(rec) != len(header) {
			return nil, nil, malformed("line %d has %d values, want %d", len(rows)+2, len(rec), len(header))
		}
		if len(rows) >= maxLines {
			return nil, nil, malformed("more than %d lines", maxLines)
		}
		rows = append(rows, unquote(rec))
	}
}

func sameRow(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if strings.TrimSpace(a[i]) != b[i] {
			return false
		}
	}
	return true
}

func unquote(rec []string) []string {
	out := make([]string, len(rec))
	for i, v := range rec {
		out[i] = strings.TrimPrefix(strings.TrimSpace(v), "`")
	}
	return out
}

func parseTime(v string) (time.Time, error) {
	t, err := time.ParseInLocation(timeLayout, v, domain.Beijing())
	if err != nil {
		return time.Time{}, malformed("time %q", v)
	}
	return t.UTC(), nil
}

func yuan(v, what string) (int64, error) {
	fen, err := domain.ParseYuan(v)
	if err != nil {
		return 0, malformed("%s: %v", what, err)
	}
	return fen, nil
}

// ParseTrades reads a trade bill and checks its summary against its lines
// (count, settled, refunded and fee totals).
func ParseTrades(raw []byte) ([]Trade, error) {
	rows, sum, err := readRows(raw, tradeHeader, tradeSummaryHeader)
	if err != nil {
		return nil, err
	}
	out := make([]Trade, 0, len(rows))
	var settled, refunded, fees int64
	for i, row := range rows {
		t := Trade{TransactionID: row[colTxnID], OrderID: row[colOrderID], TradeStatus: row[colTradeStatus]}
		if t.At, err = parseTime(row[colTime]); err != nil {
			return nil, err
		}
		if t.SettledFen, err = yuan(row[colSettleFen], "应结订单金额"); err != nil {
			return nil, err
		}
		if t.FeeFen, err = yuan(row[colFee], "手续费"); err != nil {
			return nil, err
		}
		if t.OrderID == "" || t.TransactionID == "" || t.TradeStatus == "" {
			return nil, malformed("line %d: no order, transaction or status", i+2)
		}
		if t.TradeStatus == "REFUND" {
			t.Refund, t.ProviderRefundID, t.RefundKey, t.RefundStatus = true, row[colProviderRefundID], row[colRefundKey], row[colRefundStatus]
			if t.RefundFen, err = yuan(row[colRefundFen], "退款金额"); err != nil {
				return nil, err
			}
			if t.RefundKey == "" || t.RefundStatus == "" {
				return nil, malformed("line %d: a refund without its id or status", i+2)
			}
			if t.RefundStatus == "SUCCESS" {
				refunded += t.RefundFen
			}
		} else {
			settled += t.SettledFen
		}
		fees += t.FeeFen
		out = append(out, t)
	}
	want := []int64{settled, refunded, fees}
	for i, col := range []int{1, 2, 4} {
		v, err := yuan(sum[col], tradeSummaryHeader[col])
		if err != nil {
			return nil, err
		}
		if v != want[i] {
			return nil, malformed("summary %s is %s, the lines add up to %s", tradeSummaryHeader[col], domain.Yuan(v), domain.Yuan(want[i]))
		}
	}
	if sum[0] != fmt.Sprint(len(out)) {
		return nil, malformed("summary counts %s lines, the file has %d", sum[0], len(out))
	}
	return out, nil
}

// ParsePayouts reads a bank statement and checks its summary.
func ParsePayouts(raw []byte) ([]Payout, error) {
	rows, sum, err := readRows(raw, bankHeader, bankSummaryHeader)
	if err != nil {
		return nil, err
	}
	out := make([]Payout, 0, len(rows))
	var total int64
	for i, row := range rows {
		p := Payout{Reference: row[1], BankRef: row[2], Last4: row[3], Status: row[6]}
		if p.At, err = parseTime(row[0]); err != nil {
			return nil, err
		}
		if p.AmountFen, err = yuan(row[4], "金额"); err != nil {
			return nil, err
		}
		if p.Reference == "" || p.Status == "" {
			return nil, malformed("line %d: no reference or status", i+2)
		}
		if p.Status == "SUCCESS" {
			total += p.AmountFen
		}
		out = append(out, p)
	}
	v, err := yuan(sum[1], "总金额")
	if err != nil {
		return nil, err
	}
	if v != total || sum[0] != fmt.Sprint(len(out)) {
		return nil, malformed("summary %s lines, %s does not match the lines", sum[0], sum[1])
	}
	return out, nil
}

// TradeLines turns a trade bill into reconciliation lines.
func TradeLines(ts []Trade) []domain.ReconLine {
	out := make([]domain.ReconLine, 0, len(ts))
	for _, t := range ts {
		l := domain.ReconLine{OrderID: t.OrderID, FeeFen: t.FeeFen}
		if t.Refund {
			l.Line, l.Ref, l.AmountFen, l.Status = domain.LineRefund, t.RefundKey, t.RefundFen, lineStatus(t.RefundStatus)
		} else {
			l.Line, l.Ref, l.AmountFen, l.Status = domain.LinePayment, t.TransactionID, t.SettledFen, lineStatus(t.TradeStatus)
		}
		out = append(out, l)
	}
	return out
}

// PayoutLines turns a bank statement into reconciliation lines.
func PayoutLines(ps []Payout) []domain.ReconLine {
	out := make([]domain.ReconLine, 0, len(ps))
	for _, p := range ps {
		out = append(out, domain.ReconLine{Line: domain.LinePayout, Ref: p.Reference, AmountFen: p.AmountFen, Status: lineStatus(p.Status)})
	}
	return out
}

func lineStatus(s string) string {
	switch s {
	case "SUCCESS":
		return domain.LineSucceeded
	case "FAIL", "REFUNDCLOSE", "CLOSED", "PAYERROR":
		return domain.LineFailed
	}
	return domain.LineOther
}
