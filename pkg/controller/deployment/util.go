package deployment

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	appsv1 "github.com/kl-dev/kl/pkg/api/apps/v1"
	corev1 "github.com/kl-dev/kl/pkg/api/core/v1"
	"github.com/kl-dev/kl/pkg/api/intstr"
	"github.com/kl-dev/kl/pkg/api/meta"
)

// Reasons of the Progressing and Available conditions, Kubernetes' words.
const (
	ReasonReplicaSetUpdated      = "ReplicaSetUpdated"
	ReasonFailedRSCreate         = "ReplicaSetCreateError"
	ReasonNewReplicaSetCreated   = "NewReplicaSetCreated"
	ReasonFoundNewReplicaSet     = "FoundNewReplicaSet"
	ReasonNewReplicaSetAvailable = "NewReplicaSetAvailable"
	ReasonProgressDeadline       = "ProgressDeadlineExceeded"
	ReasonPaused                 = "DeploymentPaused"
	ReasonResumed                = "DeploymentResumed"
	ReasonMinimumAvailable       = "MinimumReplicasAvailable"
	ReasonMinimumUnavailable     = "MinimumReplicasUnavailable"
)

// maxRevHistoryLength caps the revision-history annotation (characters),
// as Kubernetes does.
const maxRevHistoryLength = 2000

// annotationsNotCopied are the Deployment annotations not copied to its
// ReplicaSets: the controller's own, and kubectl's last applied
// configuration.
var annotationsNotCopied = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
	appsv1.RevisionAnnotation:                          true,
	appsv1.RevisionHistoryAnnotation:                   true,
	appsv1.DesiredReplicasAnnotation:                   true,
	appsv1.MaxReplicasAnnotation:                       true,
	"deprecated.deployment.rollback.to":                true,
}

// safeAlphabet is the alphabet of pod-template-hash values: no vowels
// (no words) and no confusable characters, as Kubernetes' SafeEncodeString.
const safeAlphabet = "bcdfghjklmnpqrstvwxz2456789"

// ComputeHash returns the pod-template-hash of template: FNV-32a of its
// JSON encoding and, when set, of collisionCount, written in decimal and
// each digit mapped into the safe alphabet, as Kubernetes does (Kubernetes
// hashes a Go dump of the struct rather than its JSON; the values differ,
// the properties do not: stable for equal templates, different on
// collisions once collisionCount goes up).
func ComputeHash(template *corev1.PodTemplateSpec, collisionCount *int32) string {
	h := fnv.New32a()
	data, err := json.Marshal(template)
	if err != nil {
		panic(fmt.Sprintf("marshal pod template: %v", err)) // plain data always marshals
	}
	h.Write(data)
	if collisionCount != nil {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint32(b, uint32(*collisionCount))
		h.Write(b)
	}
	return safeEncode(strconv.FormatUint(uint64(h.Sum32()), 10))
}

func safeEncode(s string) string {
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		out[i] = safeAlphabet[int(s[i])%len(safeAlphabet)]
	}
	return string(out)
}

// equalIgnoreHash reports whether two pod templates are equal but for the
// pod-template-hash label.
func equalIgnoreHash(a, b *corev1.PodTemplateSpec) bool {
	strip := func(t *corev1.PodTemplateSpec) []byte {
		c := *t
		c.Labels = maps.Clone(t.Labels)
		delete(c.Labels, appsv1.DefaultDeploymentUniqueLabelKey)
		if len(c.Labels) == 0 {
			c.Labels = nil
		}
		data, err := json.Marshal(&c)
		if err != nil {
			panic(fmt.Sprintf("marshal pod template: %v", err))
		}
		return data
	}
	return string(strip(a)) == string(strip(b))
}

// findNewReplicaSet returns the oldest ReplicaSet whose template equals
// d's (the "new" one), or nil.
func findNewReplicaSet(d *appsv1.Deployment, rss []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	sorted := append([]*appsv1.ReplicaSet(nil), rss...)
	sortByCreation(sorted)
	for _, rs := range sorted {
		if equalIgnoreHash(&rs.Spec.Template, &d.Spec.Template) {
			// Several can match after a hash collision; the oldest wins,
			// as in Kubernetes.
			return rs
		}
	}
	return nil
}

// oldReplicaSets returns every ReplicaSet but newRS.
func oldReplicaSets(rss []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if newRS == nil || rs.UID != newRS.UID {
			out = append(out, rs)
		}
	}
	return out
}

func replicasOf(p *int32) int32 {
	if p == nil {
		return appsv1.DefaultReplicas
	}
	return *p
}

func specReplicas(rs *appsv1.ReplicaSet) int32 { return replicasOf(rs.Spec.Replicas) }

func deploymentReplicas(d *appsv1.Deployment) int32 { return replicasOf(d.Spec.Replicas) }

// sum adds f over the ReplicaSets of rss (nil ones skipped).
func sum(rss []*appsv1.ReplicaSet, f func(*appsv1.ReplicaSet) int32) int32 {
	var n int32
	for _, rs := range rss {
		if rs != nil {
			n += f(rs)
		}
	}
	return n
}

// sumSpec is the sum of spec.replicas.
func sumSpec(rss []*appsv1.ReplicaSet) int32 {
	return sum(rss, func(rs *appsv1.ReplicaSet) int32 { return specReplicas(rs) })
}

// sumStatus is the sum of status.replicas.
func sumStatus(rss []*appsv1.ReplicaSet) int32 {
	return sum(rss, func(rs *appsv1.ReplicaSet) int32 { return rs.Status.Replicas })
}

// sumLive bounds the pods that may exist for rss from above: a ReplicaSet
// has at most max(spec.replicas, status.replicas) active pods, since
// status.replicas only goes down once the ReplicaSet controller has seen
// its pods deleted. Counting it, rather than spec alone, keeps a rolling
// update from creating new pods before the old ones it scaled away are
// gone, so live pods never exceed replicas + maxSurge.
func sumLive(rss []*appsv1.ReplicaSet) int32 {
	return sum(rss, func(rs *appsv1.ReplicaSet) int32 { return max(specReplicas(rs), rs.Status.Replicas) })
}

func sumReady(rss []*appsv1.ReplicaSet) int32 {
	return sum(rss, func(rs *appsv1.ReplicaSet) int32 { return rs.Status.ReadyReplicas })
}

func sumAvailable(rss []*appsv1.ReplicaSet) int32 {
	return sum(rss, func(rs *appsv1.ReplicaSet) int32 { return rs.Status.AvailableReplicas })
}

// sumAvailableAfterScaleDown bounds available pods from below: a
// ReplicaSet scaled down to spec.replicas keeps at least
// min(spec.replicas, status.availableReplicas) available pods, since the
// ReplicaSet controller deletes unavailable pods first. Counting it rather
// than the (possibly not yet updated) status keeps a rolling update from
// scaling down twice on one stale count.
func sumAvailableAfterScaleDown(rss []*appsv1.ReplicaSet) int32 {
	return sum(rss, func(rs *appsv1.ReplicaSet) int32 { return min(specReplicas(rs), rs.Status.AvailableReplicas) })
}

// activeReplicaSets keeps the ReplicaSets with spec.replicas > 0.
func activeReplicaSets(rss []*appsv1.ReplicaSet) []*appsv1.ReplicaSet {
	var out []*appsv1.ReplicaSet
	for _, rs := range rss {
		if rs != nil && specReplicas(rs) > 0 {
			out = append(out, rs)
		}
	}
	return out
}

func isRollingUpdate(d *appsv1.Deployment) bool {
	return d.Spec.Strategy.Type == appsv1.RollingUpdateDeploymentStrategyType || d.Spec.Strategy.Type == ""
}

// resolveFenceposts resolves maxSurge (rounded up) and maxUnavailable
// (rounded down) against desired; when both come out 0, maxUnavailable is
// 1, as in Kubernetes.
func resolveFenceposts(maxSurge, maxUnavailable *intstr.IntOrString, desired int32) (int32, int32, error) {
	surge, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxSurge, intstr.FromInt32(0)), int(desired), true)
	if err != nil {
		return 0, 0, fmt.Errorf("maxSurge: %w", err)
	}
	unavailable, err := intstr.GetScaledValueFromIntOrPercent(intstr.ValueOrDefault(maxUnavailable, intstr.FromInt32(0)), int(desired), false)
	if err != nil {
		return 0, 0, fmt.Errorf("maxUnavailable: %w", err)
	}
	if surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return int32(surge), int32(unavailable), nil
}

func rollingParams(d *appsv1.Deployment) (*intstr.IntOrString, *intstr.IntOrString) {
	ru := d.Spec.Strategy.RollingUpdate
	if ru == nil {
		s, u := intstr.FromString(appsv1.DefaultMaxSurge), intstr.FromString(appsv1.DefaultMaxUnavailable)
		return &s, &u
	}
	return ru.MaxSurge, ru.MaxUnavailable
}

// maxSurge is how many pods above replicas a rolling update may run.
func maxSurge(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) {
		return 0
	}
	s, u := rollingParams(d)
	surge, _, _ := resolveFenceposts(s, u, deploymentReplicas(d))
	return surge
}

// maxUnavailable is how many pods below replicas may be unavailable during
// a rolling update (never more than replicas).
func maxUnavailable(d *appsv1.Deployment) int32 {
	if !isRollingUpdate(d) || deploymentReplicas(d) == 0 {
		return 0
	}
	s, u := rollingParams(d)
	_, unavailable, _ := resolveFenceposts(s, u, deploymentReplicas(d))
	return min(unavailable, deploymentReplicas(d))
}

// newRSNewReplicas is the size the new ReplicaSet may grow to now.
func newRSNewReplicas(d *appsv1.Deployment, all []*appsv1.ReplicaSet, newRS *appsv1.ReplicaSet) int32 {
	if !isRollingUpdate(d) {
		return deploymentReplicas(d)
	}
	current := sumLive(all)
	maxTotal := deploymentReplicas(d) + maxSurge(d)
	if current >= maxTotal {
		return specReplicas(newRS)
	}
	up := min(maxTotal-current, deploymentReplicas(d)-specReplicas(newRS))
	return specReplicas(newRS) + max(up, 0)
}

// sortByCreation sorts oldest first, then by name.
func sortByCreation(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i], rss[j]
		if !a.CreationTimestamp.Equal(b.CreationTimestamp.Time) {
			return a.CreationTimestamp.Before(b.CreationTimestamp.Time)
		}
		return a.Name < b.Name
	})
}

// sortBySizeNewer sorts largest first, newer first among equals (where
// proportional scale-up puts leftovers).
func sortBySizeNewer(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i], rss[j]
		if specReplicas(a) != specReplicas(b) {
			return specReplicas(a) > specReplicas(b)
		}
		if !a.CreationTimestamp.Equal(b.CreationTimestamp.Time) {
			return a.CreationTimestamp.After(b.CreationTimestamp.Time)
		}
		return a.Name > b.Name
	})
}

// sortBySizeOlder sorts largest first, older first among equals (where
// proportional scale-down takes leftovers).
func sortBySizeOlder(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		a, b := rss[i], rss[j]
		if specReplicas(a) != specReplicas(b) {
			return specReplicas(a) > specReplicas(b)
		}
		if !a.CreationTimestamp.Equal(b.CreationTimestamp.Time) {
			return a.CreationTimestamp.Before(b.CreationTimestamp.Time)
		}
		return a.Name < b.Name
	})
}

// revision returns rs's revision annotation (0 if none or invalid).
func revision(obj meta.Object) int64 {
	v, err := strconv.ParseInt(obj.GetObjectMeta().Annotations[appsv1.RevisionAnnotation], 10, 64)
	if err != nil {
		return 0
	}
	return v
}

func maxRevision(rss []*appsv1.ReplicaSet) int64 {
	var m int64
	for _, rs := range rss {
		m = max(m, revision(rs))
	}
	return m
}

// sortByRevision sorts by revision, then creation (oldest first).
func sortByRevision(rss []*appsv1.ReplicaSet) {
	sort.SliceStable(rss, func(i, j int) bool {
		ri, rj := revision(rss[i]), revision(rss[j])
		if ri != rj {
			return ri < rj
		}
		return rss[i].CreationTimestamp.Before(rss[j].CreationTimestamp.Time)
	})
}

// copyAnnotations copies d's annotations to rs, but for those the
// controller manages; it reports whether rs changed.
func copyAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	changed := false
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	for k, v := range d.Annotations {
		if annotationsNotCopied[k] {
			continue
		}
		if cur, ok := rs.Annotations[k]; ok && cur == v {
			continue
		}
		rs.Annotations[k] = v
		changed = true
	}
	return changed
}

// setNewReplicaSetAnnotations brings the annotations of the new
// ReplicaSet up to date: the Deployment's own, the revision (keeping the
// ones it held before in revision-history when an old ReplicaSet becomes
// new again: a rollback), and for a ReplicaSet about to be created the
// replica annotations. It reports whether rs changed.
func setNewReplicaSetAnnotations(d *appsv1.Deployment, rs *appsv1.ReplicaSet, newRevision string, exists bool) bool {
	changed := copyAnnotations(d, rs)
	oldRevision, had := rs.Annotations[appsv1.RevisionAnnotation]
	oldRev, err := strconv.ParseInt(oldRevision, 10, 64)
	if err != nil {
		if oldRevision != "" {
			return changed // not ours to fix
		}
		oldRev = 0
	}
	newRev, err := strconv.ParseInt(newRevision, 10, 64)
	if err != nil {
		return changed
	}
	if oldRev < newRev {
		rs.Annotations[appsv1.RevisionAnnotation] = newRevision
		changed = true
	}
	if had && oldRev < newRev {
		history := rs.Annotations[appsv1.RevisionHistoryAnnotation]
		if history == "" {
			rs.Annotations[appsv1.RevisionHistoryAnnotation] = oldRevision
		} else {
			revs := strings.Split(history, ",")
			total := len(history) + len(oldRevision) + 1
			start := 0
			for total > maxRevHistoryLength && start < len(revs) {
				total -= len(revs[start]) + 1
				start++
			}
			if total <= maxRevHistoryLength {
				rs.Annotations[appsv1.RevisionHistoryAnnotation] = strings.Join(append(revs[start:], oldRevision), ",")
			}
		}
	}
	if !exists && setReplicasAnnotations(rs, deploymentReplicas(d), deploymentReplicas(d)+maxSurge(d)) {
		changed = true
	}
	return changed
}

// setReplicasAnnotations records the Deployment's replicas and
// replicas+maxSurge on rs (proportional scaling reads them back).
func setReplicasAnnotations(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	if rs.Annotations == nil {
		rs.Annotations = map[string]string{}
	}
	changed := false
	if s := strconv.Itoa(int(desired)); rs.Annotations[appsv1.DesiredReplicasAnnotation] != s {
		rs.Annotations[appsv1.DesiredReplicasAnnotation] = s
		changed = true
	}
	if s := strconv.Itoa(int(maxReplicas)); rs.Annotations[appsv1.MaxReplicasAnnotation] != s {
		rs.Annotations[appsv1.MaxReplicasAnnotation] = s
		changed = true
	}
	return changed
}

func replicasAnnotationsNeedUpdate(rs *appsv1.ReplicaSet, desired, maxReplicas int32) bool {
	return rs.Annotations[appsv1.DesiredReplicasAnnotation] != strconv.Itoa(int(desired)) ||
		rs.Annotations[appsv1.MaxReplicasAnnotation] != strconv.Itoa(int(maxReplicas))
}

func intAnnotation(rs *appsv1.ReplicaSet, key string) (int32, bool) {
	v, ok := rs.Annotations[key]
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, false
	}
	return int32(n), true
}

// findActiveOrLatest returns the only active ReplicaSet, or, when none is
// active, the new one or the newest old one; nil when several are active.
func findActiveOrLatest(newRS *appsv1.ReplicaSet, olds []*appsv1.ReplicaSet) *appsv1.ReplicaSet {
	if newRS == nil && len(olds) == 0 {
		return nil
	}
	olds = append([]*appsv1.ReplicaSet(nil), olds...)
	sortByCreation(olds)
	all := olds
	if newRS != nil {
		all = append(all, newRS)
	}
	active := activeReplicaSets(all)
	switch len(active) {
	case 0:
		if newRS != nil {
			return newRS
		}
		return olds[len(olds)-1]
	case 1:
		return active[0]
	}
	return nil
}

// isSaturated reports whether rs runs the Deployment's full replicas, all
// available.
func isSaturated(d *appsv1.Deployment, rs *appsv1.ReplicaSet) bool {
	if rs == nil {
		return false
	}
	desired, ok := intAnnotation(rs, appsv1.DesiredReplicasAnnotation)
	return ok && specReplicas(rs) == deploymentReplicas(d) && desired == deploymentReplicas(d) &&
		rs.Status.AvailableReplicas == deploymentReplicas(d)
}

// proportion is how many replicas rs gains (or loses) of toAdd when a
// Deployment is scaled mid-rollout, in proportion to its size.
func proportion(rs *appsv1.ReplicaSet, d *appsv1.Deployment, toAdd, added int32) int32 {
	if rs == nil || specReplicas(rs) == 0 || toAdd == 0 || toAdd == added {
		return 0
	}
	fraction := replicaSetFraction(rs, d)
	allowed := toAdd - added
	if toAdd > 0 {
		return min(fraction, allowed)
	}
	return max(fraction, allowed)
}

func replicaSetFraction(rs *appsv1.ReplicaSet, d *appsv1.Deployment) int32 {
	if deploymentReplicas(d) == 0 {
		return -specReplicas(rs)
	}
	total := deploymentReplicas(d) + maxSurge(d)
	annotated, ok := intAnnotation(rs, appsv1.MaxReplicasAnnotation)
	if !ok {
		annotated = d.Status.Replicas
	}
	if annotated == 0 {
		return 0
	}
	size := float64(specReplicas(rs)*total) / float64(annotated)
	return int32(math.Round(size)) - specReplicas(rs)
}

func hasProgressDeadline(d *appsv1.Deployment) bool {
	return d.Spec.ProgressDeadlineSeconds != nil && *d.Spec.ProgressDeadlineSeconds != math.MaxInt32
}

// newCondition returns a condition updated and transitioned at now.
func newCondition(typ appsv1.DeploymentConditionType, status corev1.ConditionStatus, reason, message string, now time.Time) appsv1.DeploymentCondition {
	t := meta.NewTime(now)
	return appsv1.DeploymentCondition{Type: typ, Status: status, Reason: reason, Message: message, LastUpdateTime: t, LastTransitionTime: t}
}

func getCondition(st *appsv1.DeploymentStatus, typ appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	return appsv1.GetDeploymentCondition(st, typ)
}

// setCondition sets c, Kubernetes' way: nothing changes when a condition
// of the type already has the same status and reason; a changed one keeps
// its lastTransitionTime when only the reason changed, and moves to the
// end of the list.
func setCondition(st *appsv1.DeploymentStatus, c appsv1.DeploymentCondition) {
	cur := getCondition(st, c.Type)
	if cur != nil && cur.Status == c.Status && cur.Reason == c.Reason {
		return
	}
	if cur != nil && cur.Status == c.Status {
		c.LastTransitionTime = cur.LastTransitionTime
	}
	removeCondition(st, c.Type)
	st.Conditions = append(st.Conditions, c)
}

func removeCondition(st *appsv1.DeploymentStatus, typ appsv1.DeploymentConditionType) {
	out := make([]appsv1.DeploymentCondition, 0, len(st.Conditions))
	for _, c := range st.Conditions {
		if c.Type != typ {
			out = append(out, c)
		}
	}
	st.Conditions = out
}

// deploymentComplete reports whether the rollout is done: every replica
// updated and available, nothing old left.
func deploymentComplete(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	r := deploymentReplicas(d)
	return st.UpdatedReplicas == r && st.Replicas == r && st.AvailableReplicas == r && st.ObservedGeneration >= d.Generation
}

// deploymentProgressing reports whether st shows progress since d's
// status: more updated, ready or available pods, or fewer old ones.
func deploymentProgressing(d *appsv1.Deployment, st *appsv1.DeploymentStatus) bool {
	old := d.Status
	return st.UpdatedReplicas > old.UpdatedReplicas ||
		st.Replicas-st.UpdatedReplicas < old.Replicas-old.UpdatedReplicas ||
		st.ReadyReplicas > old.ReadyReplicas ||
		st.AvailableReplicas > old.AvailableReplicas
}

// deploymentTimedOut reports whether the progress deadline passed since the
// Progressing condition was last updated.
func deploymentTimedOut(d *appsv1.Deployment, st *appsv1.DeploymentStatus, now time.Time) bool {
	if !hasProgressDeadline(d) {
		return false
	}
	c := getCondition(st, appsv1.DeploymentProgressing)
	if c == nil {
		return false
	}
	switch c.Reason {
	case ReasonNewReplicaSetAvailable:
		return false
	case ReasonProgressDeadline:
		return true
	}
	deadline := time.Duration(*d.Spec.ProgressDeadlineSeconds) * time.Second
	return c.LastUpdateTime.Add(deadline).Before(now)
}

// statusJSON is the canonical form statuses are compared in.
func statusJSON(st *appsv1.DeploymentStatus) string {
	data, err := json.Marshal(st)
	if err != nil {
		panic(fmt.Sprintf("marshal deployment status: %v", err))
	}
	return string(data)
}
