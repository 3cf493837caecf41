package alert

import (
	"time"

	"opsbot/core/incident"
)

// PublicText is a public notice about an app's outage or recovery.
type PublicText struct {
	incident.Brief
	Notice  string    `json:"notice"` // outage | recovery
	App     string    `json:"app,omitempty"`
	AppName string    `json:"app_name,omitempty"`
	Since   time.Time `json:"since"` // when the incident began
	// Wall is set on a notice decoded from a version-0 row: Since is the
	// wall clock of the bot's zone, shown as it is.
	Wall bool `json:"-"`
}

// DecodeLegacy reads a version-0 row (since as "2006-01-02 15:04").
func (p *PublicText) DecodeLegacy(d map[string]string) error {
	since, err := incident.WallTime(d["since"])
	*p = PublicText{Brief: incident.LegacyBrief(d), Notice: d["notice"], App: d["app"], AppName: d["app_name"], Since: since, Wall: true}
	return err
}

// NoticeDraft is a public notice drafted for the sys admins to publish,
// with a publish button: an outage when the non-200 rule made an alert
// joint troubleshooting, a recovery when that alert resolved.
type NoticeDraft struct{ PublicText }

// NoticeType is "incident.notice_draft".
func (NoticeDraft) NoticeType() string { return "incident.notice_draft" }

// NoticePublished replaces a draft's cards once a sys admin published it.
type NoticePublished struct {
	PublicText
	By     string `json:"by"`
	ByName string `json:"by_name"`
}

// NoticeType is "update.incident.notice".
func (NoticePublished) NoticeType() string { return "update.incident.notice" }

// DecodeLegacy reads a version-0 row.
func (p *NoticePublished) DecodeLegacy(d map[string]string) error {
	err := p.PublicText.DecodeLegacy(d)
	p.By, p.ByName = d["by"], d["by_name"]
	return err
}

// PublicNotice is a published notice, sent to the incident's channel.
type PublicNotice struct{ PublicText }

// NoticeType is "incident.public_notice".
func (PublicNotice) NoticeType() string { return "incident.public_notice" }
