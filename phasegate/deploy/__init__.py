"""``phasegate deploy``: the deployment plan (gcloud commands), its offline check, and the build.

The plan is pure text derived from the registry (:mod:`.plan`, :mod:`.names`,
:mod:`.steps`); the check runs it through the installed Google Cloud CLI's own
parser without credentials (:mod:`.gcloud_check`) and checks the generated
JSON resources against Google's discovery documents (:mod:`.resources`);
:mod:`.build` writes the self-contained function sources the plan deploys.
Nothing here is imported by the deployed runtime.
"""
