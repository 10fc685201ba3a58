#!/usr/bin/env bash
# Generated from registry/processors.yaml by phasegate 0.1.0; do not edit; run `phasegate generate` after changing the registry.
# Registry digest: 1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509
#
# Deploys the phasegate functions of the 'nba-stats' pipeline to Google Cloud.
# Run it from the repository root, again after every change: creates are guarded and
# what can drift is updated; push subscriptions of this pipeline that the registry no
# longer has are deleted, and its functions no longer deployed are printed for you to
# delete. `phasegate deploy plan --check` runs every gcloud command below through the
# installed gcloud's own parser, offline. Not gcloud (not checked):
#   - Self-contained function sources in build/: the deployable folders with phasegate's runtime vendored (not gcloud)
#   - The alert policy as a file for gcloud (build/canary-alert-policy.json; not gcloud)
set -euo pipefail

: "${PROJECT:?set PROJECT}"
: "${REGION:?set REGION}"

# Self-contained function sources in build/: the deployable folders with phasegate's runtime vendored (not gcloud)
phasegate deploy build build

# Enable the APIs the plan uses
gcloud services enable cloudfunctions.googleapis.com run.googleapis.com cloudbuild.googleapis.com artifactregistry.googleapis.com pubsub.googleapis.com firestore.googleapis.com cloudscheduler.googleapis.com logging.googleapis.com monitoring.googleapis.com iam.googleapis.com secretmanager.googleapis.com \
    --project="${PROJECT}"

# The project number names the Pub/Sub service agent
PROJECT_NUMBER="$(gcloud projects describe "${PROJECT}" --format='value(projectNumber)' --project="${PROJECT}")"
: "${PROJECT_NUMBER:?gcloud returned no value for PROJECT_NUMBER}"

# Firestore (default database, native mode): where completions are recorded
gcloud firestore databases describe --database='(default)' --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud firestore databases create --location="${REGION}" --type=firestore-native \
        --project="${PROJECT}"

# Expire phasegate_deliveries documents (their expire_at field): per-message markers, kept 7 days
gcloud firestore fields ttls update expire_at --collection-group=phasegate_deliveries \
    --enable-ttl --async --project="${PROJECT}"

# Expire phasegate_rejected documents (their expire_at field): rejected messages, kept 30 days
gcloud firestore fields ttls update expire_at --collection-group=phasegate_rejected --enable-ttl \
    --async --project="${PROJECT}"

# Service account phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com: phasegate functions (nba-stats)
gcloud iam service-accounts describe "phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud iam service-accounts create phasegate-nba-stats \
        --display-name='phasegate functions (nba-stats)' --project="${PROJECT}"

# Service account phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com: phasegate push and scheduler (nba-stats)
gcloud iam service-accounts describe "phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
    --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud iam service-accounts create phasegate-nba-stats-push \
        --display-name='phasegate push and scheduler (nba-stats)' --project="${PROJECT}"

# The functions' identity reads and writes Firestore (phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com)
gcloud projects add-iam-policy-binding "${PROJECT}" \
    --member="serviceAccount:phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --role=roles/datastore.user --condition=None --format=none --project="${PROJECT}"

# Pub/Sub may mint tokens for the push identity (authenticated push)
gcloud iam service-accounts add-iam-policy-binding "phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
    --member="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com" \
    --role=roles/iam.serviceAccountTokenCreator --format=none --project="${PROJECT}"

# Topic nba-stats-completions: the processors publish completions here
gcloud pubsub topics describe nba-stats-completions --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud pubsub topics create nba-stats-completions --project="${PROJECT}"

# Topic nba-stats-completions-dead: completions no function could take after every attempt
gcloud pubsub topics describe nba-stats-completions-dead --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud pubsub topics create nba-stats-completions-dead --project="${PROJECT}"

# Subscription nba-stats-completions-dead-hold keeps dead letters for 7 days (a topic without a subscription drops them)
gcloud pubsub subscriptions describe nba-stats-completions-dead-hold --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud pubsub subscriptions create nba-stats-completions-dead-hold \
        --topic=nba-stats-completions-dead --message-retention-duration=7d \
        --expiration-period=never --project="${PROJECT}"

# The Pub/Sub service agent may publish dead letters
gcloud pubsub topics add-iam-policy-binding nba-stats-completions-dead \
    --member="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com" \
    --role=roles/pubsub.publisher --format=none --project="${PROJECT}"

# Topic nba-phase4-trigger: a transition fires here (action: trigger)
gcloud pubsub topics describe nba-phase4-trigger --project="${PROJECT}" >/dev/null 2>&1 ||
    gcloud pubsub topics create nba-phase4-trigger --project="${PROJECT}"

# The functions' identity may publish to nba-phase4-trigger
gcloud pubsub topics add-iam-policy-binding nba-phase4-trigger \
    --member="serviceAccount:phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --role=roles/pubsub.publisher --format=none --project="${PROJECT}"

# Orchestrator for phase2_to_phase3: private, HTTP, fed by a push subscription
gcloud functions deploy nba-stats-phase2-to-phase3 --gen2 --runtime=python311 \
    --region="${REGION}" --source=build/orchestrator --entry-point=on_push --trigger-http \
    --no-allow-unauthenticated --ingress-settings=all \
    --service-account="phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --set-env-vars="PHASEGATE_TRANSITION=phase2_to_phase3,PHASEGATE_REGISTRY_DIGEST=1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509,GOOGLE_CLOUD_PROJECT=${PROJECT}" \
    --timeout=60s --memory=256Mi \
    --update-labels=phasegate-pipeline=nba-stats,phasegate-role=orchestrator \
    --project="${PROJECT}"

# The URL of nba-stats-phase2-to-phase3
NBA_STATS_PHASE2_TO_PHASE3_URL="$(gcloud functions describe nba-stats-phase2-to-phase3 --gen2 --region="${REGION}" \
    --format='value(serviceConfig.uri)' --project="${PROJECT}")"
: "${NBA_STATS_PHASE2_TO_PHASE3_URL:?gcloud returned no value for NBA_STATS_PHASE2_TO_PHASE3_URL}"

# The push identity may invoke nba-stats-phase2-to-phase3 (roles/run.invoker on its Cloud Run service)
gcloud functions add-invoker-policy-binding nba-stats-phase2-to-phase3 --region="${REGION}" \
    --member="serviceAccount:phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
    --format=none --project="${PROJECT}"

# The topic nba-stats-phase2-to-phase3-push listens to, if it exists
NBA_STATS_PHASE2_TO_PHASE3_TOPIC="$(gcloud pubsub subscriptions describe nba-stats-phase2-to-phase3-push --format='value(topic)' \
    --project="${PROJECT}" 2>/dev/null || true)"

# Recreate nba-stats-phase2-to-phase3-push if it listens to another topic than nba-stats-completions (a subscription's topic cannot be updated)
if [ -n "${NBA_STATS_PHASE2_TO_PHASE3_TOPIC}" ] && [ "${NBA_STATS_PHASE2_TO_PHASE3_TOPIC}" != "projects/${PROJECT}/topics/nba-stats-completions" ]; then
    gcloud pubsub subscriptions delete nba-stats-phase2-to-phase3-push --project="${PROJECT}"
fi

# Push subscription nba-stats-phase2-to-phase3-push: completions to nba-stats-phase2-to-phase3, dead letters after 10 attempts
if gcloud pubsub subscriptions describe nba-stats-phase2-to-phase3-push --project="${PROJECT}" >/dev/null 2>&1; then
    gcloud pubsub subscriptions update nba-stats-phase2-to-phase3-push \
        --push-endpoint="${NBA_STATS_PHASE2_TO_PHASE3_URL}" \
        --push-auth-service-account="phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
        --ack-deadline=120 --dead-letter-topic=nba-stats-completions-dead \
        --max-delivery-attempts=10 --min-retry-delay=10s --max-retry-delay=600s \
        --expiration-period=never \
        --update-labels=phasegate-pipeline=nba-stats,phasegate-role=push --project="${PROJECT}"
else
    gcloud pubsub subscriptions create nba-stats-phase2-to-phase3-push \
        --topic=nba-stats-completions --push-endpoint="${NBA_STATS_PHASE2_TO_PHASE3_URL}" \
        --push-auth-service-account="phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
        --ack-deadline=120 --dead-letter-topic=nba-stats-completions-dead \
        --max-delivery-attempts=10 --min-retry-delay=10s --max-retry-delay=600s \
        --expiration-period=never --labels=phasegate-pipeline=nba-stats,phasegate-role=push \
        --project="${PROJECT}"
fi

# The Pub/Sub service agent may forward nba-stats-phase2-to-phase3-push's dead letters
gcloud pubsub subscriptions add-iam-policy-binding nba-stats-phase2-to-phase3-push \
    --member="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com" \
    --role=roles/pubsub.subscriber --format=none --project="${PROJECT}"

# Orchestrator for phase3_to_phase4: private, HTTP, fed by a push subscription
gcloud functions deploy nba-stats-phase3-to-phase4 --gen2 --runtime=python311 \
    --region="${REGION}" --source=build/orchestrator --entry-point=on_push --trigger-http \
    --no-allow-unauthenticated --ingress-settings=all \
    --service-account="phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --set-env-vars="PHASEGATE_TRANSITION=phase3_to_phase4,PHASEGATE_REGISTRY_DIGEST=1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509,GOOGLE_CLOUD_PROJECT=${PROJECT}" \
    --timeout=60s --memory=256Mi \
    --update-labels=phasegate-pipeline=nba-stats,phasegate-role=orchestrator \
    --project="${PROJECT}"

# The URL of nba-stats-phase3-to-phase4
NBA_STATS_PHASE3_TO_PHASE4_URL="$(gcloud functions describe nba-stats-phase3-to-phase4 --gen2 --region="${REGION}" \
    --format='value(serviceConfig.uri)' --project="${PROJECT}")"
: "${NBA_STATS_PHASE3_TO_PHASE4_URL:?gcloud returned no value for NBA_STATS_PHASE3_TO_PHASE4_URL}"

# The push identity may invoke nba-stats-phase3-to-phase4 (roles/run.invoker on its Cloud Run service)
gcloud functions add-invoker-policy-binding nba-stats-phase3-to-phase4 --region="${REGION}" \
    --member="serviceAccount:phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
    --format=none --project="${PROJECT}"

# The topic nba-stats-phase3-to-phase4-push listens to, if it exists
NBA_STATS_PHASE3_TO_PHASE4_TOPIC="$(gcloud pubsub subscriptions describe nba-stats-phase3-to-phase4-push --format='value(topic)' \
    --project="${PROJECT}" 2>/dev/null || true)"

# Recreate nba-stats-phase3-to-phase4-push if it listens to another topic than nba-stats-completions (a subscription's topic cannot be updated)
if [ -n "${NBA_STATS_PHASE3_TO_PHASE4_TOPIC}" ] && [ "${NBA_STATS_PHASE3_TO_PHASE4_TOPIC}" != "projects/${PROJECT}/topics/nba-stats-completions" ]; then
    gcloud pubsub subscriptions delete nba-stats-phase3-to-phase4-push --project="${PROJECT}"
fi

# Push subscription nba-stats-phase3-to-phase4-push: completions to nba-stats-phase3-to-phase4, dead letters after 10 attempts
if gcloud pubsub subscriptions describe nba-stats-phase3-to-phase4-push --project="${PROJECT}" >/dev/null 2>&1; then
    gcloud pubsub subscriptions update nba-stats-phase3-to-phase4-push \
        --push-endpoint="${NBA_STATS_PHASE3_TO_PHASE4_URL}" \
        --push-auth-service-account="phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
        --ack-deadline=120 --dead-letter-topic=nba-stats-completions-dead \
        --max-delivery-attempts=10 --min-retry-delay=10s --max-retry-delay=600s \
        --expiration-period=never \
        --update-labels=phasegate-pipeline=nba-stats,phasegate-role=push --project="${PROJECT}"
else
    gcloud pubsub subscriptions create nba-stats-phase3-to-phase4-push \
        --topic=nba-stats-completions --push-endpoint="${NBA_STATS_PHASE3_TO_PHASE4_URL}" \
        --push-auth-service-account="phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
        --ack-deadline=120 --dead-letter-topic=nba-stats-completions-dead \
        --max-delivery-attempts=10 --min-retry-delay=10s --max-retry-delay=600s \
        --expiration-period=never --labels=phasegate-pipeline=nba-stats,phasegate-role=push \
        --project="${PROJECT}"
fi

# The Pub/Sub service agent may forward nba-stats-phase3-to-phase4-push's dead letters
gcloud pubsub subscriptions add-iam-policy-binding nba-stats-phase3-to-phase4-push \
    --member="serviceAccount:service-${PROJECT_NUMBER}@gcp-sa-pubsub.iam.gserviceaccount.com" \
    --role=roles/pubsub.subscriber --format=none --project="${PROJECT}"

# The push subscriptions labelled as this pipeline's (phasegate-pipeline=nba-stats)
PIPELINE_SUBSCRIPTIONS="$(gcloud pubsub subscriptions list \
    --filter='labels.phasegate-pipeline~^nba-stats$ AND labels.phasegate-role~^push$' \
    --format='value(name.basename())' --project="${PROJECT}")"

# Delete those this plan no longer creates (a transition renamed or removed): their orchestrators then receive nothing
while IFS= read -r STALE_SUBSCRIPTION; do
    case "${STALE_SUBSCRIPTION}" in
        '') ;;
        nba-stats-phase2-to-phase3-push) ;;
        nba-stats-phase3-to-phase4-push) ;;
        *)
            gcloud pubsub subscriptions delete "${STALE_SUBSCRIPTION}" --project="${PROJECT}"
            ;;
    esac
done <<<"${PIPELINE_SUBSCRIPTIONS}"

# The functions labelled as this pipeline's in ${REGION}
PIPELINE_FUNCTIONS="$(gcloud functions list --v2 --regions="${REGION}" \
    --filter='labels.phasegate-pipeline~^nba-stats$' --format='value(name.basename())' \
    --project="${PROJECT}")"

# Functions this plan no longer deploys: printed as a manual step, not deleted (nothing feeds them any more; deleting cannot be undone)
while IFS= read -r STALE_FUNCTION; do
    case "${STALE_FUNCTION}" in
        '') ;;
        nba-stats-phase2-to-phase3) ;;
        nba-stats-phase3-to-phase4) ;;
        nba-stats-canary) ;;
        *)
            echo "phasegate: manual step: function ${STALE_FUNCTION} of the nba-stats pipeline is no longer in the registry and no subscription of the plan feeds it; once nothing else uses it, delete it with:" >&2
            echo "   " gcloud functions delete "${STALE_FUNCTION}" --gen2 --region="${REGION}" \
                --project="${PROJECT}" >&2
            ;;
    esac
done <<<"${PIPELINE_FUNCTIONS}"

# Secret SLACK_WEBHOOK_URL (the canary's notification URL) must exist
gcloud secrets describe SLACK_WEBHOOK_URL --project="${PROJECT}" >/dev/null 2>&1 || { echo "phasegate: create the secret SLACK_WEBHOOK_URL first: printf %s URL | gcloud secrets create SLACK_WEBHOOK_URL --data-file=-" >&2; exit 1; }

# The functions' identity may read the secret SLACK_WEBHOOK_URL
gcloud secrets add-iam-policy-binding SLACK_WEBHOOK_URL \
    --member="serviceAccount:phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --role=roles/secretmanager.secretAccessor --format=none --project="${PROJECT}"

# The canary: private, HTTP, one run at a time
gcloud functions deploy nba-stats-canary --gen2 --runtime=python311 --region="${REGION}" \
    --source=build/canary --entry-point=canary_http --trigger-http --no-allow-unauthenticated \
    --ingress-settings=all \
    --service-account="phasegate-nba-stats@${PROJECT}.iam.gserviceaccount.com" \
    --set-env-vars="PHASEGATE_REGISTRY_DIGEST=1499f4268cdadf85dbfba28de21cfd9dd5f3339f9efb2d289091f6847a77c509,GOOGLE_CLOUD_PROJECT=${PROJECT}" \
    --timeout=240s --memory=256Mi \
    --update-labels=phasegate-pipeline=nba-stats,phasegate-role=canary \
    --set-secrets=SLACK_WEBHOOK_URL=SLACK_WEBHOOK_URL:latest --max-instances=1 \
    --project="${PROJECT}"

# The URL of nba-stats-canary
NBA_STATS_CANARY_URL="$(gcloud functions describe nba-stats-canary --gen2 --region="${REGION}" \
    --format='value(serviceConfig.uri)' --project="${PROJECT}")"
: "${NBA_STATS_CANARY_URL:?gcloud returned no value for NBA_STATS_CANARY_URL}"

# The scheduler identity may invoke nba-stats-canary (roles/run.invoker on its Cloud Run service)
gcloud functions add-invoker-policy-binding nba-stats-canary --region="${REGION}" \
    --member="serviceAccount:phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
    --format=none --project="${PROJECT}"

# Cloud Scheduler job phasegate-canary-nba-stats: runs the canary on '*/15 * * * *' (America/New_York)
if gcloud scheduler jobs describe phasegate-canary-nba-stats --location="${REGION}" \
    --project="${PROJECT}" >/dev/null 2>&1; then
    gcloud scheduler jobs update http phasegate-canary-nba-stats --location="${REGION}" \
        --schedule='*/15 * * * *' --time-zone=America/New_York --uri="${NBA_STATS_CANARY_URL}" \
        --http-method=POST \
        --oidc-service-account-email="phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
        --attempt-deadline=300s --max-retry-attempts=0 \
        --description='phasegate canary for nba-stats; generated from registry/processors.yaml by phasegate 0.1.0 (registry digest 1499f4268cda), do not edit' \
        --project="${PROJECT}"
else
    gcloud scheduler jobs create http phasegate-canary-nba-stats --location="${REGION}" \
        --schedule='*/15 * * * *' --time-zone=America/New_York --uri="${NBA_STATS_CANARY_URL}" \
        --http-method=POST \
        --oidc-service-account-email="phasegate-nba-stats-push@${PROJECT}.iam.gserviceaccount.com" \
        --attempt-deadline=300s --max-retry-attempts=0 \
        --description='phasegate canary for nba-stats; generated from registry/processors.yaml by phasegate 0.1.0 (registry digest 1499f4268cda), do not edit' \
        --project="${PROJECT}"
fi

# Log-based metric phasegate_canary_heartbeat_nba_stats: counts the canary's heartbeats
if gcloud logging metrics describe phasegate_canary_heartbeat_nba_stats --project="${PROJECT}" >/dev/null 2>&1; then
    gcloud logging metrics update phasegate_canary_heartbeat_nba_stats \
        --description='phasegate canary heartbeats (one per run)' \
        --log-filter='jsonPayload.message =~ "^CANARY_HEARTBEAT" AND labels.phasegate_pipeline = "nba-stats"' \
        --project="${PROJECT}"
else
    gcloud logging metrics create phasegate_canary_heartbeat_nba_stats \
        --description='phasegate canary heartbeats (one per run)' \
        --log-filter='jsonPayload.message =~ "^CANARY_HEARTBEAT" AND labels.phasegate_pipeline = "nba-stats"' \
        --project="${PROJECT}"
fi

# The alert policy as a file for gcloud (build/canary-alert-policy.json; not gcloud)
mkdir -p build
cat > build/canary-alert-policy.json <<'PHASEGATE_EOF'
{
  "combiner": "OR",
  "conditions": [
    {
      "conditionAbsent": {
        "aggregations": [
          {
            "alignmentPeriod": "300s",
            "perSeriesAligner": "ALIGN_COUNT"
          }
        ],
        "duration": "2700s",
        "filter": "metric.type = \"logging.googleapis.com/user/phasegate_canary_heartbeat_nba_stats\""
      },
      "displayName": "no canary heartbeat for 45 minutes"
    }
  ],
  "displayName": "phasegate canary for nba-stats is not running",
  "documentation": {
    "content": "The phasegate canary has not written a heartbeat. Check the Cloud Scheduler job and the canary function's logs; see docs/runbook.md (canary not running).",
    "mimeType": "text/markdown"
  }
}
PHASEGATE_EOF

# An alert policy with this display name, if one exists
EXISTING_ALERT_POLICY="$(gcloud alpha monitoring policies list \
    --filter='displayName="phasegate canary for nba-stats is not running"' \
    --format='value(name)' --limit=1 --project="${PROJECT}")"

# Alert when the canary stops writing heartbeats (gcloud alpha: the policies commands have no GA track)
if [ -z "${EXISTING_ALERT_POLICY}" ]; then
    gcloud alpha monitoring policies create --policy-from-file=build/canary-alert-policy.json \
        --project="${PROJECT}"
else
    gcloud alpha monitoring policies update "${EXISTING_ALERT_POLICY}" \
        --policy-from-file=build/canary-alert-policy.json --project="${PROJECT}"
fi
