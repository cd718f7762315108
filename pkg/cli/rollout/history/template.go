package history

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
)

// describeTemplate writes a pod template the way kubectl's describe does,
// trimmed to what tells revisions apart: labels, annotations, containers
// (image, ports, command, args, environment, mounts) and volumes.
func describeTemplate(w io.Writer, t *corev1.PodTemplateSpec) error {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	line := func(indent int, format string, args ...any) {
		fmt.Fprintf(tw, strings.Repeat("  ", indent)+format+"\n", args...)
	}
	stringMap := func(indent int, title string, m map[string]string, sep string) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			line(indent, "%s:\t<none>", title)
			return
		}
		for i, k := range keys {
			label := title + ":"
			if i > 0 {
				label = ""
			}
			line(indent, "%s\t%s%s%s", label, k, sep, m[k])
		}
	}
	containers := func(cs []corev1.Container) {
		for _, c := range cs {
			line(1, " %s:", c.Name)
			line(2, "Image:\t%s", c.Image)
			if len(c.Ports) == 0 {
				line(2, "Port:\t<none>")
			}
			for i, p := range c.Ports {
				label := "Port:"
				if i > 0 {
					label = ""
				}
				proto := p.Protocol
				if proto == "" {
					proto = corev1.ProtocolTCP
				}
				s := fmt.Sprintf("%d/%s", p.ContainerPort, proto)
				if p.Name != "" {
					s += " (" + p.Name + ")"
				}
				line(2, "%s\t%s", label, s)
			}
			for _, list := range []struct {
				title string
				items []string
			}{{"Command", c.Command}, {"Args", c.Args}} {
				if len(list.items) > 0 {
					line(2, "%s:", list.title)
					for _, s := range list.items {
						line(3, "%s", s)
					}
				}
			}
			if len(c.Env) == 0 {
				line(2, "Environment:\t<none>")
			} else {
				line(2, "Environment:")
				for _, e := range c.Env {
					line(3, "%s:\t%s", e.Name, envValue(e))
				}
			}
			if len(c.VolumeMounts) == 0 {
				line(2, "Mounts:\t<none>")
			}
			for i, m := range c.VolumeMounts {
				label := "Mounts:"
				if i > 0 {
					label = ""
				}
				mode := "rw"
				if m.ReadOnly {
					mode = "ro"
				}
				line(2, "%s\t%s from %s (%s)", label, m.MountPath, m.Name, mode)
			}
		}
	}

	line(0, "Pod Template:")
	stringMap(1, "Labels", t.Labels, "=")
	stringMap(1, "Annotations", t.Annotations, ": ")
	if len(t.Spec.InitContainers) > 0 {
		line(1, "Init Containers:")
		containers(t.Spec.InitContainers)
	}
	line(1, "Containers:")
	containers(t.Spec.Containers)
	if len(t.Spec.Volumes) == 0 {
		line(1, "Volumes:\t<none>")
	} else {
		line(1, "Volumes:")
		for _, v := range t.Spec.Volumes {
			line(2, "%s", v.Name)
		}
	}
	return tw.Flush()
}

// envValue describes where an environment variable's value comes from.
func envValue(e corev1.EnvVar) string {
	src := e.ValueFrom
	switch {
	case src == nil:
		return e.Value
	case src.FieldRef != nil:
		return fmt.Sprintf("(%s:%s)", orDefault(src.FieldRef.APIVersion, "v1"), src.FieldRef.FieldPath)
	case src.ResourceFieldRef != nil:
		return fmt.Sprintf("%s (resource)", src.ResourceFieldRef.Resource)
	case src.ConfigMapKeyRef != nil:
		return fmt.Sprintf("<set to the key '%s' of config map '%s'>", src.ConfigMapKeyRef.Key, src.ConfigMapKeyRef.Name)
	case src.SecretKeyRef != nil:
		return fmt.Sprintf("<set to the key '%s' in secret '%s'>", src.SecretKeyRef.Key, src.SecretKeyRef.Name)
	}
	return ""
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
