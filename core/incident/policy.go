package incident

import (
	"fmt"
	"strings"
	"time"
)

// Targets an escalation step may name.
var validTargets = map[string]bool{"primary": true, "secondary": true, "unit_admin": true, "district_admin": true, "sys_admin": true, "operator": true}

// ParseSteps parses one level's escalation, e.g.
// "primary; 5m secondary; 15m unit_admin; 30m district_admin,sys_admin":
// steps separated by ";", each an optional delay after declaration and
// comma-separated targets. Delays must grow.
func ParseSteps(s string) ([]Step, error) {
	var out []Step
	var last time.Duration = -1
	for _, part := range strings.Split(s, ";") {
		fields := strings.Fields(part)
		if len(fields) == 0 {
			continue
		}
		var st Step
		if d, err := time.ParseDuration(fields[0]); err == nil {
			st.After, fields = d, fields[1:]
		}
		if len(fields) != 1 {
			return nil, fmt.Errorf("step %q: want [delay] target[,target]", strings.TrimSpace(part))
		}
		for _, t := range strings.Split(fields[0], ",") {
			if !validTargets[t] {
				return nil, fmt.Errorf("step %q: unknown target %q", strings.TrimSpace(part), t)
			}
			st.Notify = append(st.Notify, t)
		}
		if st.After <= last {
			return nil, fmt.Errorf("step %q: delays must grow", strings.TrimSpace(part))
		}
		last = st.After
		out = append(out, st)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no steps")
	}
	if out[0].After != 0 {
		return nil, fmt.Errorf("the first step is the page at declaration: give it no delay")
	}
	return out, nil
}

// FormatSteps is the inverse of ParseSteps.
func FormatSteps(steps []Step) string {
	parts := make([]string, len(steps))
	for i, st := range steps {
		t := strings.Join(st.Notify, ",")
		if st.After > 0 {
			t = st.After.String() + " " + t
		}
		parts[i] = t
	}
	return strings.Join(parts, "; ")
}

// ParsePolicy builds a policy from one escalation line and one progress
// interval per level (index 0 is level 1).
func ParsePolicy(escalation [4]string, progress [4]time.Duration) (Policy, error) {
	p := Policy{Steps: map[int][]Step{}, Progress: map[int]time.Duration{}}
	for i := 0; i < 4; i++ {
		steps, err := ParseSteps(escalation[i])
		if err != nil {
			return Policy{}, fmt.Errorf("level %d: %w", i+1, err)
		}
		p.Steps[i+1] = steps
		if progress[i] <= 0 {
			return Policy{}, fmt.Errorf("level %d: progress interval must be positive", i+1)
		}
		p.Progress[i+1] = progress[i]
	}
	return p, nil
}
