#!/usr/bin/env bash
# heap10k.sh [KL_BINARY] [PORT]: the 10,000-pod scale run by hand, to read
# memory: `kl server --insecure --runtime fake --no-agent` and one
# `kl kubelet --simulate-nodes 100` on loopback, `kl apply` of 100
# Deployments x 100 replicas, then, once all pods are Running, the server's
# RSS, its heap after a forced collection (from /debug/pprof), and a heap
# profile in ./heap10k.pb.gz (`go tool pprof -top KL_BINARY heap10k.pb.gz`).
set -euo pipefail
KL=${1:-bin/kl}
PORT=${2:-17443}
URL=http://127.0.0.1:$PORT
dir=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
export KL_SERVER=$URL HOME=$dir

mkdir -p "$dir/m"
for d in $(seq -w 0 99); do
	cat > "$dir/m/app-$d.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: app-$d, namespace: default}
spec:
  replicas: 100
  selector: {matchLabels: {app: app-$d}}
  template:
    metadata: {labels: {app: app-$d}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {requests: {cpu: 10m, memory: 16Mi}}
YAML
done

"$KL" server --insecure --listen "127.0.0.1:$PORT" --data-dir "$dir/server" --runtime fake --no-agent > "$dir/server.log" 2>&1 &
server=$!
pids+=("$server")
for _ in $(seq 100); do curl -sf "$URL/readyz" > /dev/null && break; sleep 0.1; done
"$KL" kubelet --server "$URL" --runtime fake --node-name sim --simulate-nodes 100 \
	--capacity cpu=32,memory=128Gi,pods=110 --data-dir "$dir/kubelet" --kubelet-port 0 --metrics-addr 0 > "$dir/kubelet.log" 2>&1 &
pids+=("$!")
for _ in $(seq 100); do [ "$("$KL" get nodes -o name 2>/dev/null | wc -l)" -ge 100 ] && break; sleep 0.2; done

start=$(date +%s.%N)
"$KL" apply -f "$dir/m" > /dev/null
running=0
for _ in $(seq 240); do
	running=$(curl -s "$URL/api/v1/pods?fieldSelector=status.phase%3DRunning&limit=1" | grep -o '"remainingItemCount":[0-9]*' | cut -d: -f2 || true)
	[ "${running:-0}" -ge 9999 ] && break
	sleep 0.5
done
end=$(date +%s.%N)
echo "10,000 pods Running after $(echo "$end - $start" | bc) s; kl server RSS $(( $(ps -o rss= -p "$server") / 1024 )) MB"
curl -s "$URL/debug/pprof/heap?gc=1" > heap10k.pb.gz
curl -s "$URL/debug/pprof/heap?debug=1" | grep -E '^# (HeapAlloc|HeapInuse|HeapSys|NextGC) ' | sed 's/^# /  /'
echo "heap profile: heap10k.pb.gz"
