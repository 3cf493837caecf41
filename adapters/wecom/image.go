package wecom

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"

	"opsbot/bot"
)

// mediaBody names an uploaded image.
type mediaBody struct {
	MediaID string `json:"media_id"`
}

// robotImage is a group robot's inline image.
type robotImage struct {
	Base64 string `json:"base64"`
	MD5    string `json:"md5"`
}

// sendImage follows a message that carries an image (the digest chart)
// with the image itself: uploaded as temporary media for members and
// group chats, inline for group robots. The message is out already, so a
// failure is logged, not returned (a retry would send the text twice);
// an image that finds no free slot under the member's quota is skipped
// for the same reason.
func (a *Adapter) sendImage(ctx context.Context, d address, m bot.Message) {
	if len(m.Image) == 0 {
		return
	}
	if q, limited := a.quota(d); limited {
		if n, err := a.limit.take(ctx, d.String(), q, 1); err != nil || n == 0 {
			a.log.Warn("image skipped: the recipient's quota is used up", "to", d.redacted(), "err", err)
			return
		}
	}
	var err error
	switch d.kind {
	case kindRobot:
		sum := md5.Sum(m.Image)
		body := map[string]any{"msgtype": "image", "image": robotImage{Base64: base64.StdEncoding.EncodeToString(m.Image), MD5: hex.EncodeToString(sum[:])}}
		err = postRobot(ctx, a.cfg.APIBase, d.id, a.cfg.CallTimeout, body)
	default:
		var id string
		if id, err = a.upload(ctx, m.Image); err != nil {
			break
		}
		if d.kind == kindUser {
			err = a.api.call(ctx, "message/send", nil, map[string]any{"touser": d.id, "msgtype": "image", "agentid": a.cfg.AgentID,
				"image": mediaBody{MediaID: id}}, nil)
		} else {
			err = a.api.call(ctx, "appchat/send", nil, map[string]any{"chatid": d.id, "msgtype": "image", "image": mediaBody{MediaID: id}}, nil)
		}
	}
	if err != nil {
		a.log.Error("message sent but its image was not", "to", d.redacted(), "err", redact(err))
	}
}

// upload stores a PNG as temporary media (media/upload, valid 3 days).
func (a *Adapter) upload(ctx context.Context, png []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, a.api.timeout)
	defer cancel()
	tok, err := a.api.token.GetAccessTokenContext(ctx)
	if err != nil {
		return "", fmt.Errorf("wecom: get access token: %w", redact(err))
	}
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreateFormFile("media", "chart.png")
	if err != nil {
		return "", err
	}
	if _, err := part.Write(png); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	q := url.Values{"access_token": {tok}, "type": {"image"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.api.base+"/cgi-bin/media/upload?"+q.Encode(), &buf)
	if err != nil {
		return "", redact(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("wecom: media/upload: %w", redact(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("wecom: media/upload: %w", err)
	}
	var out struct {
		status
		MediaID string `json:"media_id"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", fmt.Errorf("wecom: media/upload: malformed answer: %w", err)
	}
	if out.ErrCode != 0 {
		return "", &APIError{API: "media/upload", Code: out.ErrCode, Msg: out.ErrMsg}
	}
	return out.MediaID, nil
}
