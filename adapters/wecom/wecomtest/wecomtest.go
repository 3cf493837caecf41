// Package wecomtest checks requests to a WeCom API stand-in the way WeCom
// documents them, so tests of the adapter and of the whole app fail where
// the real API would refuse a message (developer.work.weixin.qq.com
// /document/path/90236 message/send, 94888 update_template_card).
package wecomtest

import (
	"errors"
	"fmt"
)

// CodeInvalidParameter is the errcode a stand-in answers for a request
// CheckRequest refuses (WeCom's 40058, invalid parameter).
const CodeInvalidParameter = 40058

// MaxCardButtons is the most buttons a button_interaction card holds.
const MaxCardButtons = 6

// CheckRequest reports what is wrong with a decoded JSON body sent to
// path ("message/send", "message/update_template_card", …; other paths
// are not checked): required fields missing, agentid not an integer, a
// card with more than 6 buttons.
func CheckRequest(path string, body map[string]any) error {
	var errs []error
	switch path {
	case "message/send":
		errs = append(errs, agentID(body))
		if s, _ := body["touser"].(string); s == "" {
			errs = append(errs, errors.New("touser is required"))
		}
		typ, _ := body["msgtype"].(string)
		switch typ {
		case "text", "markdown":
			if c, _ := dig(body, typ, "content").(string); c == "" {
				errs = append(errs, fmt.Errorf("%s.content is required", typ))
			}
		case "template_card":
			errs = append(errs, card(body["template_card"], true))
		case "image":
			if c, _ := dig(body, "image", "media_id").(string); c == "" {
				errs = append(errs, errors.New("image.media_id is required"))
			}
		default:
			errs = append(errs, fmt.Errorf("msgtype %q is not one of the adapter's", typ))
		}
	case "message/update_template_card":
		errs = append(errs, agentID(body))
		if s, _ := body["response_code"].(string); s == "" {
			errs = append(errs, errors.New("response_code is required"))
		}
		if body["template_card"] != nil {
			errs = append(errs, card(body["template_card"], false))
		}
	}
	return errors.Join(errs...)
}

// agentID checks that agentid is a JSON integer, as WeCom documents it.
func agentID(body map[string]any) error {
	n, ok := body["agentid"].(float64)
	if !ok || n != float64(int64(n)) || n <= 0 {
		return fmt.Errorf("agentid must be a positive integer, got %T %v", body["agentid"], body["agentid"])
	}
	return nil
}

// card checks a button_interaction template card. A sent card needs a
// task_id; an updated one may reuse the card without.
func card(v any, sent bool) error {
	c, ok := v.(map[string]any)
	if !ok {
		return errors.New("template_card is required")
	}
	var errs []error
	if c["card_type"] != "button_interaction" {
		errs = append(errs, fmt.Errorf("card_type %v is not button_interaction", c["card_type"]))
	}
	if id, _ := c["task_id"].(string); sent && id == "" {
		errs = append(errs, errors.New("template_card.task_id is required for button_interaction"))
	}
	title, _ := dig(c, "main_title", "title").(string)
	sub, _ := c["sub_title_text"].(string)
	if title == "" && sub == "" {
		errs = append(errs, errors.New("template_card: main_title.title or sub_title_text is required"))
	}
	if src, ok := c["source"].(map[string]any); ok {
		if color, _ := src["desc_color"].(float64); color < 0 || color > 3 || color != float64(int(color)) {
			errs = append(errs, fmt.Errorf("template_card.source.desc_color %v is not 0–3", src["desc_color"]))
		}
	}
	buttons, ok := c["button_list"].([]any)
	if !ok {
		errs = append(errs, errors.New("template_card.button_list is required"))
	}
	if len(buttons) > MaxCardButtons {
		errs = append(errs, fmt.Errorf("template_card.button_list has %d buttons, at most %d", len(buttons), MaxCardButtons))
	}
	for i, b := range buttons {
		bm, _ := b.(map[string]any)
		text, _ := bm["text"].(string)
		key, _ := bm["key"].(string)
		if text == "" || key == "" {
			errs = append(errs, fmt.Errorf("template_card.button_list[%d]: text and key are required", i))
		}
	}
	return errors.Join(errs...)
}

// dig walks nested JSON objects by keys.
func dig(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
