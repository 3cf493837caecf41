package bot

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"opsbot/core"
	"opsbot/core/audit"
)

// TaskAuditCheckpoint is the periodic job that signs and publishes a
// checkpoint of the audit chain head.
const TaskAuditCheckpoint = "audit:checkpoint"

// maxChatExport is the most entries an export sends in chat; larger
// ranges go through `opsbot audit export`.
const maxChatExport = 500

// auditBot is the audit log's part of the bot: an entity's history, signed
// checkpoints of the chain and exports.
type auditBot struct {
	*Bot
	svc *audit.Service
}

// Audit plugs /audit <entity>, /audit checkpoint and /audit export, the
// audit.checkpoint notice, and (with a key) the checkpoint job every
// interval.
func Audit(svc *audit.Service, every time.Duration) Plug {
	return func(b *Bot) Module {
		k := auditBot{Bot: b, svc: svc}
		m := Module{
			Name: "audit",
			Commands: []*Command{
				{Path: "audit", Usage: "<entity ref>", MinArgs: 1, MaxArgs: 1, Topic: "general", Run: k.trail},
				{Path: "audit checkpoint", Topic: "general", Run: k.checkpoint},
				{Path: "audit export", Usage: "[from YYYY-MM-DD] [to YYYY-MM-DD]", MaxArgs: 2, Topic: "general", Run: k.export},
			},
			Notices: []NoticeRenderer{Renders(k.renderCheckpoint)},
		}
		if svc != nil && svc.Keyed() && every > 0 {
			m.Jobs = []Job{{Type: TaskAuditCheckpoint, Every: every, Run: k.periodic}}
		}
		return m
	}
}

// periodic signs the hourly checkpoint. A broken chain is told to the sys
// admins by the service and logged here, not retried.
func (k auditBot) periodic(ctx context.Context, _ time.Time) error {
	c, err := k.svc.Checkpoint(ctx, core.SystemActor())
	if errors.Is(err, core.ErrConflict) {
		k.log.Error("audit chain broken: no checkpoint signed", "err", err)
		return nil
	}
	if err != nil {
		return err
	}
	k.log.Info("audit checkpoint published", "seq", c.Seq, "hash", c.Hash, "key_id", c.KeyID)
	return nil
}

func (k auditBot) trail(ctx context.Context, r *Request) ([]Message, error) {
	entity := r.Args[0]
	entries, err := k.org.AuditTrail(ctx, r.Actor, entity)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return reply(Message{Ref: entity, Title: k.t("audit.title", "entity", entity), Text: k.t("audit.empty", "entity", entity)})
	}
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		line := k.t("audit.line", "seq", itoa64(e.Seq), "at", k.fmtTime(e.At), "sentence", AuditSentence(k.cfg.Language, k.cfg.Location, e, k.person))
		lines = append(lines, "- "+line)
	}
	return reply(Message{Ref: entity, Title: k.t("audit.title", "entity", entity), Text: strings.Join(lines, "\n")})
}

func (k auditBot) checkpoint(ctx context.Context, r *Request) ([]Message, error) {
	c, err := k.svc.Checkpoint(ctx, r.Actor)
	if err != nil {
		return nil, err
	}
	m, err := k.renderCheckpoint(audit.ChainEntity, audit.Checkpointed{Seq: c.Seq, Hash: c.Hash, At: c.At, KeyID: c.KeyID, Sig: c.Sig, By: r.Actor.UserID})
	if err != nil {
		return nil, err
	}
	m.Title = k.t("audit.checkpoint.signed", "seq", itoa64(c.Seq))
	return reply(m)
}

func (k auditBot) export(ctx context.Context, r *Request) ([]Message, error) {
	var from, to string
	if len(r.Args) > 0 {
		from = r.Args[0]
	}
	if len(r.Args) > 1 {
		to = r.Args[1]
	}
	start, end, err := audit.DayRange(from, to, k.cfg.Location)
	if err != nil {
		return nil, err
	}
	var lines []string
	total := 0
	x, err := k.svc.Export(ctx, r.Actor, start, end, func(e core.AuditEntry) error {
		total++
		if total > maxChatExport {
			return nil
		}
		line, err := audit.ExportLine(e)
		lines = append(lines, string(line))
		return err
	})
	if err != nil {
		return nil, err
	}
	if total > maxChatExport {
		return nil, core.Invalid("audit_export_too_big", "count", strconv.Itoa(total), "max", strconv.Itoa(maxChatExport))
	}
	if x.Break != nil {
		return nil, core.Conflict("audit_broken", "seq", itoa64(x.Break.Seq), "reason", x.Break.Reason)
	}
	span := k.t("audit.export.all")
	if from != "" || to != "" {
		span = from + " – " + to
	}
	m := Message{Ref: audit.ChainEntity, Title: k.t("audit.export.title", "span", span),
		Fields: []Field{{Name: k.t("audit.export.count"), Value: strconv.FormatInt(x.Count, 10)}}}
	if x.Checkpoint == nil {
		m.Text = k.t("audit.export.none")
		return reply(m)
	}
	cp, err := audit.CheckpointLine(*x.Checkpoint)
	if err != nil {
		return nil, err
	}
	lines = append(lines, string(cp))
	m.Text = k.t("audit.export.text") + "\n```\n" + strings.Join(lines, "\n") + "\n```"
	m.Fields = append(m.Fields, Field{Name: k.t("audit.export.checkpoint"),
		Value: k.t("audit.export.ends", "seq", itoa64(x.Checkpoint.Seq), "hash", x.Checkpoint.Hash)})
	return reply(m)
}

func (k auditBot) renderCheckpoint(_ string, p audit.Checkpointed) (Message, error) {
	by := k.person(p.By)
	if p.By == core.SystemUser {
		by = k.t("audit.checkpoint.hourly")
	}
	if p.Broken != "" {
		return Message{Ref: audit.ChainEntity, Title: k.t("audit.broken.title", "seq", itoa64(p.BrokenSeq)),
			Text: k.t("audit.broken.text", "seq", itoa64(p.BrokenSeq), "reason", p.Broken),
			Fields: []Field{
				{Name: k.t("audit.checkpoint.verified"), Value: "#" + itoa64(p.Seq)},
				{Name: k.t("audit.checkpoint.at"), Value: k.fmtTime(p.At)},
				{Name: k.t("audit.checkpoint.by"), Value: by},
			}}, nil
	}
	return Message{Ref: audit.ChainEntity, Title: k.t("audit.checkpoint.title", "seq", itoa64(p.Seq)),
		Text: k.t("audit.checkpoint.text"),
		Fields: []Field{
			{Name: k.t("audit.checkpoint.seq"), Value: "#" + itoa64(p.Seq)},
			{Name: k.t("audit.checkpoint.hash"), Value: p.Hash},
			{Name: k.t("audit.checkpoint.at"), Value: k.fmtTime(p.At)},
			{Name: k.t("audit.checkpoint.key"), Value: p.KeyID},
			{Name: k.t("audit.checkpoint.sig"), Value: p.Sig},
			{Name: k.t("audit.checkpoint.by"), Value: by},
		}}, nil
}
