package api

import (
	"context"
	"net/http"
	"time"

	"opsbot/core"
	"opsbot/core/duty"
)

// DutyService is the duty rotation service (core/duty), as /duty now,
// /duty swap and the handovers use it.
type DutyService interface {
	Rotations(ctx context.Context, actor core.Actor) ([]duty.Rotation, error)
	Now(ctx context.Context, actor core.Actor, name string) ([]duty.OnDuty, error)
	At(ctx context.Context, actor core.Actor, name string, at time.Time) ([]duty.OnDuty, error)
	Shifts(ctx context.Context, actor core.Actor, name, from, to string) (duty.Rotation, []duty.Shift, error)
	Swap(ctx context.Context, actor core.Actor, name, day, user string) error
}

// DutyRotation is a duty rotation.
type DutyRotation struct {
	Name         string   `json:"name"`
	Unit         string   `json:"unit" doc:"The unit the rotation covers (and those below it)."`
	Members      []string `json:"members" doc:"User ids, in the order they take shifts."`
	Every        string   `json:"every" enum:"day,week"`
	Handover     string   `json:"handover" doc:"Handover time, HH:MM in opsbot's time zone."`
	SkipHolidays bool     `json:"skip_holidays" doc:"Hands over on working days only: whoever is on duty before a holiday stays on through it."`
	StartDate    string   `json:"start_date" doc:"The first shift's day, YYYY-MM-DD."`
}

// DutyShift is one stretch of duty.
type DutyShift struct {
	Primary   string    `json:"primary"`
	Secondary string    `json:"secondary"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Override  bool      `json:"override" doc:"The primary took this shift by a swap."`
}

// DutyNow is who is on a rotation at a time, and who comes next.
type DutyNow struct {
	Rotation string    `json:"rotation"`
	Now      DutyShift `json:"now" doc:"The shift on duty at the time asked about."`
	Next     DutyShift `json:"next" doc:"The shift after it."`
}

// DutyNowList is who is on duty on each rotation asked for.
type DutyNowList struct {
	Items []DutyNow `json:"items"`
}

// DutyShifts is a rotation's shifts during a range of days.
type DutyShifts struct {
	Rotation string      `json:"rotation"`
	From     string      `json:"from"`
	To       string      `json:"to"`
	Shifts   []DutyShift `json:"shifts"`
}

// DutySwap puts a user on duty for the shift starting on a day.
type DutySwap struct {
	Rotation string `json:"rotation"`
	Date     string `json:"date" doc:"The shift's start day, YYYY-MM-DD."`
	User     string `json:"user" doc:"Who takes the shift."`
}

func dutyRotation(r duty.Rotation) DutyRotation {
	members := r.Members
	if members == nil {
		members = []string{}
	}
	return DutyRotation{Name: r.Name, Unit: r.Unit, Members: members, Every: r.Every, Handover: r.Handover,
		SkipHolidays: r.SkipHolidays, StartDate: r.StartDate.Format(time.DateOnly)}
}

func dutyShift(s duty.Shift) DutyShift {
	return DutyShift{Primary: s.Primary, Secondary: s.Secondary, Start: utc(s.Start), End: utc(s.End), Override: s.Override}
}

// dutyRoutes are the duty rotations: who is on duty, shifts, swaps.
func (a *API) dutyRoutes() []Route {
	rotation := Param{Name: "rotation", Description: "A rotation's name; every rotation when absent."}
	return []Route{
		{Method: http.MethodGet, Path: "/api/v1/duty/rotations", OperationID: "listDutyRotations", Tag: "duty",
			Summary: "The duty rotations", Paged: true, Response: Page[DutyRotation]{}, Handle: a.dutyRotations},
		{Method: http.MethodGet, Path: "/api/v1/duty/now", OperationID: "getOnDuty", Tag: "duty",
			Summary:  "Who is on duty now or at a time, and who is next (/duty now)",
			Params:   []Param{rotation, {Name: "at", Type: TypeTime, Description: "The time to ask about (RFC 3339); now when absent."}},
			Response: DutyNowList{}, Handle: a.onDuty},
		{Method: http.MethodGet, Path: "/api/v1/duty/shifts", OperationID: "listDutyShifts", Tag: "duty",
			Summary:     "A rotation's shifts during a range of days, swaps and skipped holidays included",
			Description: "Every shift on duty at some time from the start of day from to the end of day to (at most 366 days).",
			Params: []Param{{Name: "rotation", Required: true}, {Name: "from", Required: true, Description: "First day, YYYY-MM-DD."},
				{Name: "to", Required: true, Description: "Last day, YYYY-MM-DD (included)."}},
			Response: DutyShifts{}, Handle: a.dutyShifts},
		{Method: http.MethodPost, Path: "/api/v1/duty/swaps", OperationID: "swapDuty", Tag: "duty",
			Summary:     "Put a user on duty for one shift (/duty swap)",
			Description: "Members of the rotation and whoever may manage it may swap.",
			Body:        DutySwap{}, Response: DutySwap{}, Handle: a.swapDuty},
	}
}

func (a *API) dutyRotations(c *Call) (any, error) {
	rs, err := a.cfg.Duty.Rotations(c.Ctx, c.Actor)
	if err != nil {
		return nil, err
	}
	return PageOf(c, Convert(rs, dutyRotation))
}

func (a *API) onDuty(c *Call) (any, error) {
	var list []duty.OnDuty
	var err error
	if c.Has("at") {
		list, err = a.cfg.Duty.At(c.Ctx, c.Actor, c.String("rotation"), c.Time("at"))
	} else {
		list, err = a.cfg.Duty.Now(c.Ctx, c.Actor, c.String("rotation"))
	}
	if err != nil {
		return nil, err
	}
	return DutyNowList{Items: Convert(list, func(od duty.OnDuty) DutyNow {
		return DutyNow{Rotation: od.Rotation.Name, Now: dutyShift(od.Now), Next: dutyShift(od.Next)}
	})}, nil
}

func (a *API) dutyShifts(c *Call) (any, error) {
	r, shifts, err := a.cfg.Duty.Shifts(c.Ctx, c.Actor, c.String("rotation"), c.String("from"), c.String("to"))
	if err != nil {
		return nil, err
	}
	return DutyShifts{Rotation: r.Name, From: c.String("from"), To: c.String("to"), Shifts: Convert(shifts, dutyShift)}, nil
}

func (a *API) swapDuty(c *Call) (any, error) {
	b := BodyOf[DutySwap](c)
	if err := a.cfg.Duty.Swap(c.Ctx, c.Actor, b.Rotation, b.Date, b.User); err != nil {
		return nil, err
	}
	return *b, nil
}
