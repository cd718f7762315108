//go:build tools

// Package main pins dependencies until code imports them.
package main

import (
	_ "github.com/aymanbagabas/go-udiff"
	_ "github.com/dgraph-io/badger/v4"
	_ "github.com/evanphx/json-patch/v5"
	_ "github.com/fatih/color"
	_ "github.com/google/uuid"
	_ "github.com/mattn/go-isatty"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/prometheus/client_golang/prometheus/promhttp"
	_ "github.com/rogpeppe/go-internal/testscript"
	_ "github.com/santhosh-tekuri/jsonschema/v6"
	_ "github.com/spf13/cobra"
	_ "github.com/spf13/viper"
	_ "github.com/vbauerster/mpb/v8"
	_ "go.yaml.in/yaml/v3"
	_ "golang.org/x/sync/errgroup"
	_ "golang.org/x/time/rate"
	_ "sigs.k8s.io/yaml"
)
