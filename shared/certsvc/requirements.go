package certsvc

import (
	"microcert/shared/apitime"
	"microcert/shared/domain"
)

// RequirementsDoc is the JSON form of a case's requirements (Stripe-style).
type RequirementsDoc struct {
	CurrentlyDue        []string          `json:"currentlyDue"`
	PendingVerification []string          `json:"pendingVerification"`
	Errors              []RequirementItem `json:"errors"`
	Deadline            *apitime.Time     `json:"deadline"`
}

// RequirementItem is one requirement error with its message.
type RequirementItem struct {
	Requirement string `json:"requirement"`
	Code        string `json:"code"`
	Message     string `json:"message"`
}

// RequirementsJSON renders requirements for a language ("" = Chinese).
func RequirementsJSON(r domain.Requirements, lang string) RequirementsDoc {
	out := RequirementsDoc{CurrentlyDue: nonNil(r.CurrentlyDue), PendingVerification: nonNil(r.PendingVerification),
		Errors: []RequirementItem{}, Deadline: apitime.Ptr(r.Deadline)}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, RequirementItem{Requirement: e.Requirement, Code: e.Code, Message: e.Message.In(lang)})
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
