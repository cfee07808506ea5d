"""A third-party auditor's view of GuardDuty, read through boto3 as such tools do (one
account's credentials from the environment, every region given): is GuardDuty on, centrally
managed, and is every protection plan asked for reported ENABLED by the detector?

Prints a JSON list of problems (empty when everything is on)."""

import json
import sys

import boto3

endpoint, regions, plans = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split(",")
member = len(sys.argv) > 4 and sys.argv[4] == "member"
problems = []
for region in regions:
    gd = boto3.client("guardduty", region_name=region, endpoint_url=endpoint)
    ids = gd.list_detectors()["DetectorIds"]
    if not ids:
        problems.append(f"{region}: GuardDuty is not enabled (no detector)")
        continue
    detector = gd.get_detector(DetectorId=ids[0])
    if detector["Status"] != "ENABLED":
        problems.append(f"{region}: detector {detector['Status']}")
    features = {f["Name"]: f["Status"] for f in detector.get("Features", [])}
    for plan in plans:
        if plan not in features:
            problems.append(f"{region}: {plan} not reported by the detector")
        elif features[plan] != "ENABLED":
            problems.append(f"{region}: {plan} {features[plan]}")
    if member:
        admin = gd.get_administrator_account(DetectorId=ids[0]).get("Administrator")
        if not admin or admin.get("RelationshipStatus") != "Enabled":
            problems.append(f"{region}: not centrally managed ({admin})")
print(json.dumps(problems))
