package framework

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Plugins selects a profile's plugins per extension point: the plugins
// section of the scheduler's --config file,
//
//	plugins:
//	  filter:
//	    disabled: [NodePorts]           # or [{name: NodePorts}]; "*" disables every default
//	  score:
//	    enabled:
//	    - {name: LeastAllocated, weight: 2}
//
// Each set changes the defaults (plugins.DefaultPlugins): Disabled removes
// plugins, then Enabled appends plugins (or, for one already enabled, sets
// its weight). Weights only apply to score plugins; 0 means 1.
type Plugins struct {
	Filter PluginSet `json:"filter,omitempty"`
	Score  PluginSet `json:"score,omitempty"`
}

// PluginSet enables and disables plugins at one extension point.
type PluginSet struct {
	Enabled  []PluginRef `json:"enabled,omitempty"`
	Disabled []PluginRef `json:"disabled,omitempty"`
}

// PluginRef names a plugin and, for score plugins, its weight.
type PluginRef struct {
	Name   string `json:"name"`
	Weight int32  `json:"weight,omitempty"`
}

// UnmarshalJSON accepts a plugin name alone ("NodePorts") as well as
// {name: NodePorts, weight: 2}; unknown fields are errors.
func (p *PluginRef) UnmarshalJSON(b []byte) error {
	if trimmed := bytes.TrimSpace(b); len(trimmed) > 0 && trimmed[0] == '"' {
		*p = PluginRef{}
		return json.Unmarshal(trimmed, &p.Name)
	}
	type plain PluginRef // no UnmarshalJSON: no recursion
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out plain
	if err := dec.Decode(&out); err != nil {
		return fmt.Errorf("plugin: want a name or {name: NAME, weight: N}: %w", err)
	}
	*p = PluginRef(out)
	return nil
}

// DecodePlugins decodes the JSON form of a Plugins section, refusing
// unknown fields so that typos ("disable:") are errors.
func DecodePlugins(data []byte) (Plugins, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Plugins
	if err := dec.Decode(&p); err != nil {
		return Plugins{}, err
	}
	return p, nil
}

// merge applies custom's changes to defaults' Enabled list.
func merge(point string, defaults, custom PluginSet) ([]PluginRef, error) {
	disabled := map[string]bool{}
	for _, d := range custom.Disabled {
		disabled[d.Name] = true
	}
	var out []PluginRef
	if !disabled["*"] {
		for _, d := range defaults.Enabled {
			if !disabled[d.Name] {
				out = append(out, d)
			}
		}
	}
	for _, e := range custom.Enabled {
		if e.Weight < 0 {
			return nil, fmt.Errorf("plugins.%s.enabled: %s: weight %d must not be negative", point, e.Name, e.Weight)
		}
		if e.Name == "*" {
			return nil, fmt.Errorf("plugins.%s.enabled: \"*\" is only allowed under disabled", point)
		}
		replaced := false
		for i := range out {
			if out[i].Name == e.Name {
				if e.Weight != 0 {
					out[i].Weight = e.Weight
				}
				replaced = true
			}
		}
		if !replaced {
			out = append(out, e)
		}
	}
	for i := range out {
		if out[i].Weight == 0 {
			out[i].Weight = 1
		}
	}
	return out, nil
}
