package v1

// GetDeploymentCondition returns the deployment condition of the given
// type, or nil. The pointer points into status.Conditions.
func GetDeploymentCondition(status *DeploymentStatus, condType DeploymentConditionType) *DeploymentCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == condType {
			return &status.Conditions[i]
		}
	}
	return nil
}

// SetDeploymentCondition adds or replaces the condition of the same type,
// keeping the old lastTransitionTime when the status did not change.
func SetDeploymentCondition(status *DeploymentStatus, cond DeploymentCondition) {
	if old := GetDeploymentCondition(status, cond.Type); old != nil {
		if old.Status == cond.Status && old.Reason == cond.Reason {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		*old = cond
		return
	}
	status.Conditions = append(status.Conditions, cond)
}

// RemoveDeploymentCondition removes the condition of the given type.
func RemoveDeploymentCondition(status *DeploymentStatus, condType DeploymentConditionType) {
	out := status.Conditions[:0]
	for _, c := range status.Conditions {
		if c.Type != condType {
			out = append(out, c)
		}
	}
	status.Conditions = out
}

// GetReplicaSetCondition returns the replica set condition of the given
// type, or nil. The pointer points into status.Conditions.
func GetReplicaSetCondition(status *ReplicaSetStatus, condType ReplicaSetConditionType) *ReplicaSetCondition {
	for i := range status.Conditions {
		if status.Conditions[i].Type == condType {
			return &status.Conditions[i]
		}
	}
	return nil
}

// SetReplicaSetCondition adds or replaces the condition of the same type,
// keeping the old lastTransitionTime when the status did not change.
func SetReplicaSetCondition(status *ReplicaSetStatus, cond ReplicaSetCondition) {
	if old := GetReplicaSetCondition(status, cond.Type); old != nil {
		if old.Status == cond.Status && old.Reason == cond.Reason {
			cond.LastTransitionTime = old.LastTransitionTime
		}
		*old = cond
		return
	}
	status.Conditions = append(status.Conditions, cond)
}

// RemoveReplicaSetCondition removes the condition of the given type.
func RemoveReplicaSetCondition(status *ReplicaSetStatus, condType ReplicaSetConditionType) {
	out := status.Conditions[:0]
	for _, c := range status.Conditions {
		if c.Type != condType {
			out = append(out, c)
		}
	}
	status.Conditions = out
}
