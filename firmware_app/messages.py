"""Every sentence a nurse reads, in each supported language, from one catalogue.

Keys are stable identifiers (also used in JSON output and on the wire); the text is looked up at
the last moment in the language the device is configured for.
"""

from __future__ import annotations

CATALOGUE: dict[str, dict[str, str]] = {
    "disclaimer": {
        "en": "Triage aid only, not a diagnosis: a clinician must validate this result.",
        "fr": "Aide au tri uniquement, pas un diagnostic : un clinicien doit valider ce résultat.",
    },
    "triage.refer": {
        "en": "Refer to a specialist.",
        "fr": "Adresser à un spécialiste.",
    },
    "triage.no_refer": {
        "en": "No referral needed now; rescreen at the usual interval.",
        "fr": "Pas d'orientation nécessaire ; nouveau dépistage à l'intervalle habituel.",
    },
    "triage.ungradable": {
        "en": "Ungradable: retake the photo, or refer for a manual examination.",
        "fr": "Ininterprétable : reprenez la photo, ou adressez pour un examen manuel.",
    },
    "records.storage_full": {
        "en": "Storage is almost full: this screening was not recorded. Sync the device or call the technician.",
        "fr": "Stockage presque plein : ce dépistage n'a pas été enregistré. Synchronisez l'appareil ou appelez "
        "le technicien.",
    },
    "records.outbox_full": {
        "en": "Too many results are waiting to be sent: this screening was not recorded. Connect the device to "
        "the network or call the technician.",
        "fr": "Trop de résultats attendent d'être envoyés : ce dépistage n'a pas été enregistré. Connectez "
        "l'appareil au réseau ou appelez le technicien.",
    },
    "records.refused": {
        "en": "This screening could not be recorded. Call the technician.",
        "fr": "Ce dépistage n'a pas pu être enregistré. Appelez le technicien.",
    },
}


def message(key: str, language: str) -> str:
    """The text for ``key`` in ``language``; English when a translation is missing."""
    texts = CATALOGUE[key]
    return texts.get(language, texts["en"])
