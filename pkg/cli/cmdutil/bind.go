package cmdutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
)

// noBindAnnotation marks a flag that BindFlags leaves alone.
const noBindAnnotation = "kl/no-bind"

// MarkFlagNoBind makes flag name of fs settable on the command line only:
// BindFlags reads it from neither the environment nor a config file. A
// component's own --config flag is marked so, so that KL_CONFIG (the client's
// config file) never leaks into it.
func MarkFlagNoBind(fs *pflag.FlagSet, name string) error {
	return fs.SetAnnotation(name, noBindAnnotation, []string{"true"})
}

// EnvName returns the environment variable that sets flag name:
// EnvName("KL", "data-dir") is "KL_DATA_DIR".
func EnvName(prefix, name string) string {
	return prefix + "_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// BindFlags gives every flag of cmd (its own and the inherited global ones)
// that was not set on the command line a value from, in order of precedence,
// the environment variable EnvName(envPrefix, flag) and configFile, if not
// empty. Flags set by neither keep their defaults, so the precedence is
// flag > environment > config file > default.
//
// configFile is YAML whose keys are flag names, e.g.
//
//	listen: 127.0.0.1:7000
//	etcd-servers: [https://10.0.0.1:2379, https://10.0.0.2:2379]
//
// A key that names no flag is an error, so typos do not pass silently.
// BindFlags is safe to call more than once: flags it has set count as set.
func BindFlags(cmd *cobra.Command, envPrefix, configFile string) error {
	fs := cmd.Flags()
	v := viper.New() // one per call: kl has no global configuration state
	if configFile != "" {
		path, err := ExpandHome(configFile)
		if err != nil {
			return err
		}
		v.SetConfigFile(path)
		v.SetConfigType("yaml")
		if err := v.ReadInConfig(); err != nil {
			return fmt.Errorf("read config file %s: %w", configFile, err)
		}
		if err := checkKeys(v.AllKeys(), fs, configFile); err != nil {
			return err
		}
	}

	var errs []error
	fs.VisitAll(func(fl *pflag.Flag) {
		if fl.Changed || !bindable(fl) {
			return
		}
		env := EnvName(envPrefix, fl.Name)
		if err := v.BindEnv(fl.Name, env); err != nil {
			errs = append(errs, fmt.Errorf("bind --%s to %s: %w", fl.Name, env, err))
			return
		}
		if !v.IsSet(fl.Name) {
			return
		}
		source := "config file " + configFile
		if os.Getenv(env) != "" {
			source = "environment variable " + env
		}
		if err := setFlag(fs, fl, v.Get(fl.Name)); err != nil {
			errs = append(errs, fmt.Errorf("invalid value for --%s from %s: %w", fl.Name, source, err))
		}
	})
	return errors.Join(errs...)
}

// bindable reports whether BindFlags may set fl.
func bindable(fl *pflag.Flag) bool {
	if fl.Name == "help" {
		return false
	}
	_, noBind := fl.Annotations[noBindAnnotation]
	return !noBind
}

// checkKeys fails if a config file key names no bindable flag.
func checkKeys(keys []string, fs *pflag.FlagSet, configFile string) error {
	var unknown []string
	for _, k := range keys {
		if fl := fs.Lookup(k); fl == nil || !bindable(fl) {
			unknown = append(unknown, fmt.Sprintf("%q", k))
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	return fmt.Errorf("config file %s: unknown key %s (keys are the command's flag names without dashes, e.g. listen)",
		configFile, strings.Join(unknown, ", "))
}

// setFlag sets fl from a config file or environment value.
func setFlag(fs *pflag.FlagSet, fl *pflag.Flag, val any) error {
	switch val := val.(type) {
	case []any:
		sv, ok := fl.Value.(pflag.SliceValue)
		if !ok {
			return fmt.Errorf("got a list, want a single %s", fl.Value.Type())
		}
		items := make([]string, len(val))
		for i, item := range val {
			items[i] = fmt.Sprint(item)
		}
		if err := sv.Replace(items); err != nil {
			return err
		}
		fl.Changed = true
		return nil
	case map[string]any:
		return fmt.Errorf("got a map, want a %s", fl.Value.Type())
	default:
		return fs.Set(fl.Name, fmt.Sprint(val))
	}
}

// ExpandHome replaces a leading "~" in path with the user's home directory.
func ExpandHome(path string) (string, error) {
	if path != "~" && !strings.HasPrefix(path, "~/") {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand %s: %w", path, err)
	}
	return filepath.Join(home, path[1:]), nil
}
