package jobs

import (
	"fmt"
	"time"

	"microcert/shared/domain"
)

// Notification kinds the jobs write (Notification.Kind, what the app
// switches on).
const (
	KindReminder = domain.NoticeReminder // renewal reminder before expiry
	KindOverdue  = domain.NoticeOverdue  // expired: capabilities suspended
	KindLapsed   = domain.NoticeLapsed   // lapsed: certification lost
)

// typeNames are the names people know the certification types by.
var typeNames = map[domain.CertType]domain.Text{
	domain.CertWeCom:           {Zh: "企业微信", En: "WeCom"},
	domain.CertOfficialAccount: {Zh: "公众号", En: "Official Account"},
	domain.CertMiniProgram:     {Zh: "小程序", En: "Mini Program"},
}

func typeName(t domain.CertType) domain.Text {
	if n, ok := typeNames[t]; ok {
		return n
	}
	return domain.Text{Zh: string(t), En: string(t)}
}

// Dates are shown as the Beijing calendar day (expiry is the end of a
// Beijing day, which is the previous day's evening in UTC).
func dateZh(t time.Time) string { return t.In(domain.Beijing()).Format("2006年1月2日") }
func dateEn(t time.Time) string { return t.In(domain.Beijing()).Format("2 January 2006") }

// daysLeft counts Beijing calendar days from now to t (0 on the day).
func daysLeft(now, t time.Time) int {
	day := func(x time.Time) time.Time {
		b := x.In(domain.Beijing())
		return time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	}
	return int(day(t).Sub(day(now)).Hours() / 24)
}

func daysEn(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// reminderNotification is the renewal reminder of milestone m: it names the
// type, the expiry date (Beijing time) and what to do (open the annual
// review), and what happens otherwise.
func reminderNotification(c *domain.Certification, m domain.Reminder, now time.Time, r domain.Rules) domain.Notification {
	n := typeName(c.Type)
	left := daysLeft(now, c.ExpiresAt)
	exp := c.ExpiresAt
	return domain.Notification{
		ID:           domain.NewIDAt(now),
		EnterpriseID: c.EnterpriseID,
		Kind:         KindReminder,
		Subject:      domain.NoticeSubject{CertType: c.Type, CertStatus: c.Status, ExpiresAt: &exp, DaysLeft: left},
		Title: domain.Text{
			Zh: fmt.Sprintf("%s认证将于%s到期，请发起年审", n.Zh, dateZh(c.ExpiresAt)),
			En: fmt.Sprintf("Your %s certification expires on %s: open the annual review", n.En, dateEn(c.ExpiresAt)),
		},
		Body: domain.Text{
			Zh: fmt.Sprintf("您的%s认证有效期至%s（北京时间），还剩%d天。请在到期前于应用内发起年审并提交材料；"+
				"到期未完成年审将暂停认证权益，逾期超过%d天认证将失效。",
				n.Zh, dateZh(c.ExpiresAt), left, r.LapseAfterDays),
			En: fmt.Sprintf("Your %s certification is valid until %s (Beijing time), %s from now. "+
				"Open the annual review in the app and submit your materials before then; "+
				"if it is not done by the expiry date the certification's capabilities are suspended, "+
				"and more than %d days after it the certification lapses.",
				n.En, dateEn(c.ExpiresAt), daysEn(left), r.LapseAfterDays),
		},
		CreatedAt: now,
	}
}

// expiryNotification tells the enterprise its certification moved to
// c.Status (overdue or lapsed) and how to recover.
func expiryNotification(c *domain.Certification, now time.Time, r domain.Rules) domain.Notification {
	n := typeName(c.Type)
	exp := c.ExpiresAt
	out := domain.Notification{ID: domain.NewIDAt(now), EnterpriseID: c.EnterpriseID, CreatedAt: now,
		Subject: domain.NoticeSubject{CertType: c.Type, CertStatus: c.Status, ExpiresAt: &exp}}
	if c.Status == domain.CertLapsed {
		out.Kind = KindLapsed
		out.Title = domain.Text{
			Zh: fmt.Sprintf("%s认证已失效", n.Zh),
			En: fmt.Sprintf("Your %s certification has lapsed", n.En),
		}
		out.Body = domain.Text{
			Zh: fmt.Sprintf("您的%s认证已于%s（北京时间）到期，逾期超过%d天未完成年审，认证已失效，相关权益已取消。"+
				"如需恢复，请在应用内申请恢复认证：缴纳年审费用并重新提交材料审核。",
				n.Zh, dateZh(c.ExpiresAt), r.LapseAfterDays),
			En: fmt.Sprintf("Your %s certification expired on %s (Beijing time) and no annual review was completed "+
				"within %d days, so it has lapsed and its capabilities are withdrawn. To recover it, apply for "+
				"reinstatement in the app: pay the annual fee and submit your materials for review.",
				n.En, dateEn(c.ExpiresAt), r.LapseAfterDays),
		}
		return out
	}
	lapse := c.LapsesAt(r)
	out.Kind = KindOverdue
	out.Title = domain.Text{
		Zh: fmt.Sprintf("%s认证已到期，权益已暂停", n.Zh),
		En: fmt.Sprintf("Your %s certification has expired: capabilities suspended", n.En),
	}
	out.Body = domain.Text{
		Zh: fmt.Sprintf("您的%s认证已于%s（北京时间）到期，相关权益已暂停。请于%s前在应用内发起年审以恢复；"+
			"逾期超过%d天认证将失效。", n.Zh, dateZh(c.ExpiresAt), dateZh(lapse), r.LapseAfterDays),
		En: fmt.Sprintf("Your %s certification expired on %s (Beijing time) and its capabilities are suspended. "+
			"Open the annual review in the app by %s to restore them; after that the certification lapses.",
			n.En, dateEn(c.ExpiresAt), dateEn(lapse)),
	}
	return out
}
