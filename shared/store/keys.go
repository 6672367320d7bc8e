package store

import (
	"strconv"
	"time"

	"microcert/shared/domain"
)

// Key attribute names of the table and its indexes (template.yaml).
const (
	attrPK     = "pk"
	attrSK     = "sk"
	attrGSI1PK = "gsi1pk"
	attrGSI1SK = "gsi1sk"
	attrQPK    = "qpk"
	attrQSK    = "qsk"
	attrDuePK  = "duepk"
	attrDueSK  = "duesk"
	attrRPK    = "rpk"
	attrRSK    = "rsk"
	attrHPK    = "hpk"
	attrHSK    = "hsk"
	attrTTL    = "ttl"
	attrPHSK   = "phsk"

	indexGSI1   = "GSI1"
	indexQueue  = "QueueIndex"
	indexDue    = "DueIndex"
	indexRemind = "RemindIndex"
	indexHash   = "HashIndex"
)

// phashBands is how many perceptual-hash band indexes the table has
// (PHashIndex0..3 on ph0..ph3, sort key phsk).
const phashBands = 4

func phashAttr(band int) string  { return "ph" + strconv.Itoa(band) }
func phashIndex(band int) string { return "PHashIndex" + strconv.Itoa(band) }

// Partition and sort key builders. Every key of the table is made here.
const (
	prefixEnt      = "ENT#"
	prefixCase     = "CASE#"
	skProfile      = "A#PROFILE"
	skCase         = "A#CASE"
	skCertPrefix   = "B#CERT#"
	skHistPrefix   = "H#"
	skNotePrefix   = "N#"
	skMarkPrefix   = "R#"
	skDocPrefix    = "D#"
	skAuditPrefix  = "U#"
	skPayoutPrefix = "P#"
	skUSCC         = "USCC"
	skRef          = "REF"
	skIdem         = "IDEM"
	gsi1skDoc      = "DOC"
	queuePK        = "QUEUE"
	dueCasePK      = "CASE"
	dueCertPK      = "CERT"
	remindPK       = "REMIND"

	skLedgerPrefix    = "L#"
	skRefundPrefix    = "F#"
	skDiscrepancy     = "DISC"
	prefixDiscrepancy = "DISC#"
	refundsPK         = "REFUNDS"
	discrepanciesPK   = "DISCREPANCIES"
	dueRefundPK       = "REFUND"
)

func entPK(id string) string                { return prefixEnt + id }
func usccPK(uscc string) string             { return "USCC#" + uscc }
func certSK(t domain.CertType) string       { return skCertPrefix + string(t) }
func casePK(id string) string               { return prefixCase + id }
func entCasesPK(enterpriseID string) string { return "ENTCASES#" + enterpriseID }
func docSK(docID string) string             { return skDocPrefix + docID }
func docGSI1PK(docID string) string         { return "DOC#" + docID }
func hashPK(sha256 string) string           { return "SHA#" + sha256 }
func refPK(kind domain.RefKind, id string) string {
	return keyJoin("REF", string(kind), id)
}
func idemPK(key string) string { return "IDEM#" + key }

func ledgerSK(id string) string      { return skLedgerPrefix + id }
func refundSK(id string) string      { return skRefundPrefix + id }
func ledgerDayPK(day string) string  { return "LEDGER#" + day }
func payoutDayPK(day string) string  { return "PAYOUTS#" + day }
func subsidyPK(month string) string  { return "SUBSIDY#" + month }
func discrepancyPK(id string) string { return prefixDiscrepancy + id }
func adminAuditPK(day string) string { return "AUDIT#" + day }

func histSK(at time.Time, id string) string  { return skHistPrefix + keyJoin(ts(at), id) }
func noteSK(at time.Time, id string) string  { return skNotePrefix + keyJoin(ts(at), id) }
func auditSK(at time.Time, id string) string { return skAuditPrefix + keyJoin(ts(at), id) }
func payoutSK(at time.Time) string           { return skPayoutPrefix + ts(at) }
func markSK(t domain.CertType, cycle, milestone int) string {
	return skMarkPrefix + keyJoin(string(t), strconv.Itoa(cycle), strconv.Itoa(milestone))
}

// createdSK is the "<createdAt>#<id>" sort key of GSI1 lists.
func createdSK(at time.Time, id string) string { return keyJoin(ts(at), id) }

// dueSK is the "<time>#<id...>" sort key of DueIndex and RemindIndex.
func dueSK(at time.Time, id ...string) string {
	return keyJoin(append([]string{ts(at)}, id...)...)
}

// epoch is the TTL value of t (epoch seconds).
func epoch(t time.Time) int64 { return t.Unix() }
