package kubelet

import (
	"bufio"
	"bytes"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"

	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/resource"
)

// defaultMaxPods is the pods capacity of a node, as in Kubernetes.
const defaultMaxPods = 110

// machineCapacity measures the machine: CPUs, memory (/proc/meminfo
// MemTotal), the disk of dataDir (ephemeral-storage) and 110 pods. What
// cannot be measured is left out.
func machineCapacity(dataDir string) corev1.ResourceList {
	rl := corev1.ResourceList{
		corev1.ResourceCPU:  *resource.NewQuantity(int64(goruntime.NumCPU()), resource.DecimalSI),
		corev1.ResourcePods: *resource.NewQuantity(defaultMaxPods, resource.DecimalSI),
	}
	if mem := memTotal(); mem > 0 {
		rl[corev1.ResourceMemory] = *resource.NewQuantity(mem, resource.BinarySI)
	}
	if disk := diskTotal(dataDir); disk > 0 {
		rl[corev1.ResourceEphemeralStorage] = *resource.NewQuantity(disk, resource.BinarySI)
	}
	return rl
}

// memTotal returns MemTotal of /proc/meminfo in bytes (0 if unknown).
func memTotal() int64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	return parseMemTotal(data)
}

func parseMemTotal(data []byte) int64 {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return 0
			}
			if len(f) >= 3 && strings.EqualFold(f[2], "kB") {
				n *= 1024
			}
			return n
		}
	}
	return 0
}

// systemInfo describes the machine for a node's status.nodeInfo.
func systemInfo() corev1.NodeSystemInfo {
	read := func(path string) string {
		data, err := os.ReadFile(path)
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(data))
	}
	info := corev1.NodeSystemInfo{
		MachineID:       read("/etc/machine-id"),
		SystemUUID:      read("/sys/class/dmi/id/product_uuid"),
		BootID:          read("/proc/sys/kernel/random/boot_id"),
		KernelVersion:   read("/proc/sys/kernel/osrelease"),
		OperatingSystem: goruntime.GOOS,
		Architecture:    goruntime.GOARCH,
	}
	if data, err := os.ReadFile("/etc/os-release"); err == nil {
		info.OSImage = osPrettyName(data)
	}
	if info.OSImage == "" {
		info.OSImage = goruntime.GOOS
	}
	return info
}

func osPrettyName(data []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "PRETTY_NAME="); ok {
			return strings.Trim(v, `"'`)
		}
	}
	return ""
}
