package slack

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	slackapi "github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// verified checks the request signature (and its timestamp, at most five
// minutes old) before h sees the body; anything else is a 401 and nothing
// is processed.
func (a *Adapter) verified(h func(w http.ResponseWriter, r *http.Request, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				http.Error(w, "slack: body too large", http.StatusRequestEntityTooLarge)
				return
			}
			http.Error(w, "slack: cannot read body", http.StatusBadRequest)
			return
		}
		sv, err := slackapi.NewSecretsVerifier(r.Header, a.cfg.SigningSecret)
		if err == nil {
			_, _ = sv.Write(body)
			err = sv.Ensure()
		}
		if err != nil {
			a.log.Warn("request refused", "path", r.URL.Path, "err", err, "remote", r.RemoteAddr)
			http.Error(w, "slack: request signature missing, wrong or stale", http.StatusUnauthorized)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r, body)
	})
}

// ack writes Slack's acknowledgement: an empty 200, or payload as JSON.
func ack(w http.ResponseWriter, payload any) {
	if payload == nil {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(payload)
}

func (a *Adapter) postCommand(w http.ResponseWriter, r *http.Request, _ []byte) {
	cmd, err := slackapi.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "slack: malformed slash command", http.StatusBadRequest)
		return
	}
	ack(w, a.dispatch(r.Context(), inbound{Command: &cmd}))
}

func (a *Adapter) postInteraction(w http.ResponseWriter, r *http.Request, _ []byte) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "slack: malformed interaction", http.StatusBadRequest)
		return
	}
	var cb slackapi.InteractionCallback
	if err := json.Unmarshal([]byte(r.PostForm.Get("payload")), &cb); err != nil {
		http.Error(w, "slack: malformed interaction payload", http.StatusBadRequest)
		return
	}
	ack(w, a.dispatch(r.Context(), inbound{Interaction: &cb}))
}

func (a *Adapter) postEvent(w http.ResponseWriter, r *http.Request, body []byte) {
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		// An inner event type this library does not know: acknowledge so
		// Slack does not retry it, and ignore it.
		a.log.Warn("unparsed event ignored", "err", err)
		ack(w, nil)
		return
	}
	if ev.Type == slackevents.URLVerification {
		v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
		if !ok {
			http.Error(w, "slack: malformed url_verification", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, v.Challenge)
		return
	}
	retry, _ := strconv.Atoi(r.Header.Get("X-Slack-Retry-Num"))
	ack(w, a.dispatch(r.Context(), inbound{Event: &ev, Retry: retry}))
}
