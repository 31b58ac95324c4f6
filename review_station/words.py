"""Every sentence the review station's pages show a specialist, and its command line
(``edgescreen-review``) an administrator, in English and French, from one catalogue.

Francophone specialists read these results. The language is each reader's choice (``language_of``),
remembered in their browser, the station's ``[web] language`` until they choose; the command line
speaks the station's ``[web] language``, as the device's speaks ``[device] language``. French is set by the
device's own typography (``firmware_app.messages.typeset``), and numbers and dates by the device's
wording (``firmware_app.wording``): one rule for both apps. Codes stay codes where they are stored
and exported (a triage, a verdict, an urgency): only their words on a page are translated (``code``).
The device's disclaimer is the device's sentence (``firmware_app.messages``'s ``result.disclaimer``).

Outside ``web``: the command line, the ingester (which logs an unsent notice's reason in the
dashboard's English words) and the pages all speak from it, and none of them reaches into another's
package for it. The words only the pages need are in ``review_station.web.words``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from edgescreen_wire.erased import MAX_NOTICE_IDS
from edgescreen_wire.pem_keys import WRITE_REFUSALS, KeyRefusal
from firmware_app.messages import plural_key, typeset
from firmware_app.wording import date_in_words
from review_station.heartbeats import Heard
from review_station.refused import Refused

CATALOGUE: dict[str, dict[str, str]] = {
    # every page
    "station.name": {"en": "EdgeScreen review station", "fr": "Station de relecture EdgeScreen"},
    "station.title": {"en": "{page} · EdgeScreen review", "fr": "{page} · Relecture EdgeScreen"},
    "station.skip": {"en": "Skip to main content", "fr": "Aller au contenu principal"},
    "station.language": {"en": "Language", "fr": "Langue"},
    "nav.worklist": {"en": "Worklist", "fr": "Liste de travail"},
    "nav.dashboard": {"en": "Dashboard", "fr": "Tableau de bord"},
    "nav.export": {"en": "Export", "fr": "Export"},
    "nav.quarantine": {"en": "Quarantine", "fr": "Quarantaine"},
    "nav.sign_out": {"en": "Sign out", "fr": "Se déconnecter"},
    "nav.account": {"en": "{username} ({role})", "fr": "{username} ({role})"},
    "nav.account_sites": {"en": "{username} ({role}; sites {sites})", "fr": "{username} ({role} ; sites {sites})"},
    "role.reviewer": {"en": "reviewer", "fr": "relecteur"},
    "role.coordinator": {"en": "coordinator", "fr": "coordinateur"},
    "role.admin": {"en": "admin", "fr": "administrateur"},
    # signing in
    "sign_in.title": {"en": "Sign in", "fr": "Connexion"},
    "sign_in.stale": {
        "en": "This sign-in form had expired (another sign-in page was opened since, or it was forged): "
        "sign in again here.",
        "fr": "Ce formulaire de connexion avait expiré (une autre page de connexion a été ouverte depuis, ou il "
        "a été falsifié) : reconnectez-vous ici.",
    },
    "sign_in.idle.one": {
        "en": "You were signed out after {count} minute without using the station. Sign in again to go on: "
        "a read you had begun in this tab waits on its page.",
        "fr": "Votre session a été fermée après {count} minute sans utiliser la station. Reconnectez-vous pour "
        "continuer : une lecture commencée dans cet onglet vous attend sur sa page.",
    },
    "sign_in.idle.other": {
        "en": "You were signed out after {count} minutes without using the station. Sign in again to go on: "
        "a read you had begun in this tab waits on its page.",
        "fr": "Votre session a été fermée après {count} minutes sans utiliser la station. Reconnectez-vous pour "
        "continuer : une lecture commencée dans cet onglet vous attend sur sa page.",
    },
    # The absolute end (``[web] session_minutes``), said as the idle end is: before, its reader was
    # dropped on this page with no reason.
    "sign_in.expired.one": {
        "en": "Your session ended {count} minute after you signed in, the station's limit. Sign in again to go "
        "on: a read you had begun in this tab waits on its page.",
        "fr": "Votre session a pris fin {count} minute après votre connexion, la limite de la station. "
        "Reconnectez-vous pour continuer : une lecture commencée dans cet onglet vous attend sur sa page.",
    },
    "sign_in.expired.other": {
        "en": "Your session ended {count} minutes after you signed in, the station's limit. Sign in again to go "
        "on: a read you had begun in this tab waits on its page.",
        "fr": "Votre session a pris fin {count} minutes après votre connexion, la limite de la station. "
        "Reconnectez-vous pour continuer : une lecture commencée dans cet onglet vous attend sur sa page.",
    },
    # A session that ended long before its reader came back (``accounts.end_told``): said of the
    # browser, not of "you", as whoever comes to the desk next may read it.
    "sign_in.ended": {
        "en": "The session open in this browser has ended. Sign in to go on.",
        "fr": "La session ouverte dans ce navigateur a pris fin. Connectez-vous pour continuer.",
    },
    "sign_in.failed": {
        "en": "Wrong name or password, or the account is locked or disabled.",
        "fr": "Nom ou mot de passe erroné, ou compte verrouillé ou désactivé.",
    },
    "sign_in.name": {"en": "Name", "fr": "Nom"},
    "sign_in.password": {"en": "Password", "fr": "Mot de passe"},
    "sign_in.button": {"en": "Sign in", "fr": "Se connecter"},
    # the worklist
    "worklist.title": {"en": "Worklist", "fr": "Liste de travail"},
    "worklist.undelivered.one": {
        "en": "{count} verdict has not reached a nurse",
        "fr": "{count} avis n'est pas parvenu à un infirmier",
    },
    "worklist.undelivered.other": {
        "en": "{count} verdicts have not reached a nurse",
        "fr": "{count} avis ne sont pas parvenus à un infirmier",
    },
    "worklist.undelivered_then.one": {
        "en": ": pass it on to the clinic another way.",
        "fr": " : transmettez-le au centre par un autre moyen.",
    },
    "worklist.undelivered_then.other": {
        "en": ": pass them on to the clinic another way.",
        "fr": " : transmettez-les au centre par un autre moyen.",
    },
    "filter.state": {"en": "State", "fr": "État"},
    "filter.triage": {"en": "Triage", "fr": "Tri"},
    "filter.quality": {"en": "Quality", "fr": "Qualité"},
    "filter.modality": {"en": "Modality", "fr": "Modalité"},
    "filter.any": {"en": "any", "fr": "tous"},
    "filter.contrary": {"en": "Refused contrary read", "fr": "Lecture contraire refusée"},
    "filter.contrary_hint": {
        "en": "a read refused because another was recorded first, which differs in what the patient gets: a "
        "coordinator confirms the read that stands or amends it",
        "fr": "une lecture refusée parce qu'une autre a été enregistrée avant, qui change ce que reçoit le "
        "patient : un coordinateur confirme la lecture retenue ou la modifie",
    },
    "filter.to_settle": {"en": "to settle", "fr": "à trancher"},
    "filter.site": {"en": "Site", "fr": "Site"},
    "filter.device": {"en": "Device", "fr": "Appareil"},
    "filter.dated_from": {"en": "Dated from", "fr": "Daté du"},
    "filter.dated_hint": {
        "en": "the device's capture time, or the arrival when the device's clock could not be trusted",
        "fr": "l'heure de prise de l'appareil, ou l'arrivée quand son horloge n'était pas fiable",
    },
    "filter.to": {"en": "to", "fr": "au"},
    "filter.button": {"en": "Filter", "fr": "Filtrer"},
    "worklist.awaiting.one": {"en": "{count} awaits your read", "fr": "{count} attend votre lecture"},
    "worklist.awaiting.other": {"en": "{count} await your read", "fr": "{count} attendent votre lecture"},
    "worklist.awaiting_then": {
        "en": ": listed first, most urgent and oldest on top.",
        "fr": " : en tête de liste, les plus urgents et les plus anciens d'abord.",
    },
    "worklist.nothing_awaits": {"en": "Nothing here awaits your read.", "fr": "Rien ici n'attend votre lecture."},
    "worklist.disagreements.one": {
        "en": "{count} result's two reads disagree",
        "fr": "Les deux lectures de {count} résultat divergent",
    },
    "worklist.disagreements.other": {
        "en": "{count} results' two reads disagree",
        "fr": "Les deux lectures de {count} résultats divergent",
    },
    "worklist.disagreements_then": {
        "en": ": each awaits your adjudication, and its device no verdict until then:",
        "fr": " : chacun attend votre arbitrage, et son appareil aucun avis d'ici là :",
    },
    "worklist.flagged.one": {"en": "{count} result in all", "fr": "{count} résultat en tout"},
    "worklist.flagged.other": {"en": "{count} results in all", "fr": "{count} résultats en tout"},
    "worklist.flagged_then.one": {
        "en": " holds a read refused because another was recorded first, which differs in what the patient gets:",
        "fr": " porte une lecture refusée parce qu'une autre a été enregistrée avant, qui change ce que "
        "reçoit le patient :",
    },
    "worklist.flagged_then.other": {
        "en": " hold a read refused because another was recorded first, which differs in what the patient gets:",
        "fr": " portent une lecture refusée parce qu'une autre a été enregistrée avant, qui change ce que "
        "reçoit le patient :",
    },
    "worklist.flagged_show": {"en": "show them", "fr": "les afficher"},
    "worklist.flagged_settle": {
        "en": ", and on each result's page confirm the read that stands or amend it",
        "fr": ", puis, sur la page de chaque résultat, confirmer la lecture retenue ou la modifier",
    },
    "worklist.total.one": {"en": "{count} result", "fr": "{count} résultat"},
    "worklist.total.other": {"en": "{count} results", "fr": "{count} résultats"},
    "worklist.count": {"en": "{name}: ", "fr": "{name} : "},
    "column.triage": {"en": "Triage", "fr": "Tri"},
    "column.dated_utc": {"en": "Dated (UTC)", "fr": "Daté (UTC)"},
    "column.dated": {"en": "Dated", "fr": "Daté"},
    "column.site": {"en": "Site", "fr": "Site"},
    "column.device": {"en": "Device", "fr": "Appareil"},
    "column.modality": {"en": "Modality", "fr": "Modalité"},
    # Where the photo was taken: a patient's two eyes, or two lesions, told apart (worklist, dashboard).
    "column.eye_or_body_site": {"en": "Eye / body site", "fr": "Œil / site corporel"},
    "column.quality": {"en": "Quality", "fr": "Qualité"},
    "column.state": {"en": "State", "fr": "État"},
    "worklist.waits_on.awaiting_second_read": {"en": "awaits another reader", "fr": "attend un autre relecteur"},
    "worklist.waits_on.disagreement": {"en": "awaits a coordinator", "fr": "attend un coordinateur"},
    "worklist.arrival": {"en": "(arrival)", "fr": "(arrivée)"},
    "worklist.arrival_hint": {
        "en": "the device's clock could not be trusted: dated by its arrival here",
        "fr": "l'horloge de l'appareil n'était pas fiable : daté de son arrivée ici",
    },
    "worklist.contrary_pill": {"en": "refused contrary read", "fr": "lecture contraire refusée"},
    "worklist.contrary_hint": {
        "en": "a read refused because another was recorded first differs in what the patient gets: a "
        "coordinator settles it on the result's page",
        "fr": "une lecture refusée parce qu'une autre a été enregistrée avant change ce que reçoit le patient : "
        "un coordinateur tranche sur la page du résultat",
    },
    "worklist.read": {"en": "Read", "fr": "Lire"},
    "worklist.view": {"en": "View", "fr": "Voir"},
    "worklist.no_match": {
        "en": "No result matches these filters.",
        "fr": "Aucun résultat ne correspond à ces filtres.",
    },
    "worklist.page": {"en": "Page {page} of {pages}", "fr": "Page {page} sur {pages}"},
    "worklist.previous": {"en": "previous", "fr": "précédente"},
    "worklist.next": {"en": "next", "fr": "suivante"},
    # codes: shown in words, stored and exported as codes
    "state.awaiting_review": {"en": "awaiting review", "fr": "en attente de lecture"},
    "state.awaiting_second_read": {"en": "awaiting second read", "fr": "en attente de seconde lecture"},
    "state.disagreement": {"en": "disagreement", "fr": "désaccord"},
    "state.reviewed": {"en": "reviewed", "fr": "relu"},
    "triage.refer": {"en": "refer", "fr": "à adresser"},
    "triage.no_refer": {"en": "no refer", "fr": "pas d'orientation"},
    "triage.ungradable": {"en": "ungradable", "fr": "ininterprétable"},
    "quality.good": {"en": "good", "fr": "bonne"},
    "quality.usable": {"en": "usable", "fr": "utilisable"},
    "quality.reject": {"en": "reject", "fr": "refusée"},
    # The quality gate's reasons (``quality.reasons``), for the specialist: what is wrong with the photo,
    # where the device's sentences (``quality.<reason>``) tell the nurse how to retake it.
    "defect.blurred": {"en": "blurred", "fr": "floue"},
    "defect.bubbles": {"en": "air bubbles", "fr": "bulles d'air"},
    "defect.compressed": {"en": "compression artefacts", "fr": "artefacts de compression"},
    "defect.edge_artefact": {"en": "artefact at the edge of the field", "fr": "artefact au bord du champ"},
    "defect.field_cut": {"en": "field of view cut off", "fr": "champ coupé"},
    "defect.field_too_small": {"en": "field of view too small", "fr": "champ trop petit"},
    "defect.glare": {"en": "glare", "fr": "reflets"},
    "defect.hair": {"en": "hair over the lesion", "fr": "poils sur la lésion"},
    "defect.lesion_cut": {"en": "lesion cut off by the photo's edge", "fr": "lésion coupée par le bord de la photo"},
    "defect.lesion_off_centre": {"en": "lesion off centre", "fr": "lésion décentrée"},
    "defect.lesion_too_small": {"en": "lesion too small in the photo", "fr": "lésion trop petite sur la photo"},
    "defect.low_contrast": {"en": "low contrast", "fr": "contraste faible"},
    "defect.macula_outside": {"en": "macula outside the field", "fr": "macula hors du champ"},
    "defect.no_lesion": {"en": "no lesion found", "fr": "aucune lésion trouvée"},
    "defect.no_optic_disc": {"en": "optic disc not found", "fr": "papille non trouvée"},
    "defect.noisy": {"en": "noisy", "fr": "bruitée"},
    "defect.too_bright": {"en": "too bright", "fr": "trop claire"},
    "defect.too_dark": {"en": "too dark", "fr": "trop sombre"},
    "defect.uneven_illumination": {"en": "uneven illumination", "fr": "éclairage inégal"},
    "defect.no_field_of_view": {"en": "no field of view found", "fr": "aucun champ de vue trouvé"},
    "defect.greyscale": {"en": "greyscale, no colour", "fr": "en niveaux de gris, sans couleur"},
    "defect.image_too_small": {"en": "image too small", "fr": "image trop petite"},
    "defect.red_free": {"en": "red-free (green filter) photo", "fr": "photo anérythre (filtre vert)"},
    "defect.wrong_modality": {"en": "a retina photo, not skin", "fr": "photo de rétine, pas de peau"},
    # Not the gate's: the nurse could not photograph the eye at all (firmware_app/pipeline.py).
    # The device's words for it (``result.heading.cannot_photograph``): "not photographed" also reads as
    # "not yet", which the device says of an eye still to photograph; the row names the eye.
    "defect.not_photographed": {"en": "could not be photographed", "fr": "impossible à photographier"},
    # The quality gate's measures (``quality.measures``), named for the specialist who reads their values.
    "measure.blockiness": {"en": "JPEG block borders", "fr": "bords de blocs JPEG"},
    "measure.blue_over_red": {"en": "blue-to-red ratio", "fr": "rapport bleu sur rouge"},
    "measure.blue_share": {"en": "blue share", "fr": "part du bleu"},
    "measure.bright_fraction": {"en": "burnt-out share", "fr": "part brûlée"},
    "measure.bright_fraction_off_glare": {
        "en": "burnt-out share away from glare",
        "fr": "part brûlée hors des reflets",
    },
    "measure.brightness": {"en": "brightness", "fr": "luminosité"},
    "measure.bubbles": {"en": "air bubbles", "fr": "bulles d'air"},
    "measure.coarse_sharpness": {"en": "coarse sharpness", "fr": "netteté à grande échelle"},
    "measure.colourfulness": {"en": "colourfulness", "fr": "saturation des couleurs"},
    "measure.contrast": {"en": "contrast (haze)", "fr": "contraste (voile)"},
    "measure.dark_fraction": {"en": "underexposed share", "fr": "part sous-exposée"},
    "measure.disc_contrast": {"en": "optic disc contrast", "fr": "contraste de la papille"},
    "measure.disc_side_shade": {"en": "shade on the disc's side", "fr": "ombre du côté de la papille"},
    "measure.edge_shadow": {"en": "shadow at the field's edge", "fr": "ombre au bord du champ"},
    "measure.field_coverage": {"en": "field of view inside the photo", "fr": "champ inclus dans la photo"},
    "measure.field_offset": {"en": "field of view off centre", "fr": "décentrage du champ"},
    "measure.field_span": {"en": "field of view span", "fr": "étendue du champ"},
    "measure.flat_blocks": {"en": "flattened JPEG blocks", "fr": "blocs JPEG aplatis"},
    "measure.glare_fraction": {"en": "glare share", "fr": "part de reflets"},
    "measure.glare_spots": {"en": "glare spots", "fr": "taches de reflet"},
    "measure.hair_fraction": {"en": "hair over the lesion", "fr": "poils sur la lésion"},
    "measure.highlights": {"en": "highlight level", "fr": "niveau des hautes lumières"},
    "measure.lesion_contrast": {"en": "lesion contrast", "fr": "contraste de la lésion"},
    "measure.lesion_cut": {"en": "lesion cut by the edge", "fr": "lésion coupée par le bord"},
    "measure.lesion_fraction": {"en": "lesion's share of the field", "fr": "part du champ occupée par la lésion"},
    "measure.lesion_offset": {"en": "lesion off centre", "fr": "décentrage de la lésion"},
    "measure.lesion_pixels": {"en": "lesion area (pixels)", "fr": "surface de la lésion (pixels)"},
    "measure.lesion_pushed": {"en": "lesion pushed to the edge", "fr": "lésion repoussée vers le bord"},
    "measure.light_gradient": {"en": "light gradient", "fr": "gradient d'éclairage"},
    "measure.lit_corners": {"en": "lit corners", "fr": "coins éclairés"},
    "measure.macula_offset": {"en": "macula off centre", "fr": "décentrage de la macula"},
    "measure.noise": {"en": "noise", "fr": "bruit"},
    "measure.overexposure": {"en": "overexposure", "fr": "surexposition"},
    "measure.overexposure_off_glare": {"en": "overexposure away from glare", "fr": "surexposition hors des reflets"},
    "measure.red_share": {"en": "red share", "fr": "part du rouge"},
    "measure.sharpness": {"en": "sharpness", "fr": "netteté"},
    "measure.sharpness_balance": {"en": "sharpness balance", "fr": "équilibre de la netteté"},
    "measure.sharpness_balance_off_glare": {
        "en": "sharpness balance away from glare",
        "fr": "équilibre de la netteté hors des reflets",
    },
    "measure.sharpness_off_glare": {"en": "sharpness away from glare", "fr": "netteté hors des reflets"},
    "measure.unevenness": {"en": "uneven illumination", "fr": "inégalité d'éclairage"},
    # A model card's operating points (the threshold a result's triage used), by what each was chosen for.
    "point.screening": {"en": "screening (high sensitivity)", "fr": "dépistage (haute sensibilité)"},
    "point.balanced": {"en": "balanced", "fr": "équilibré"},
    # The body site the nurse chose (``body_site``), in the specialist's anatomy, not the device's plain words.
    "body_site.head_neck": {"en": "head and neck", "fr": "tête et cou"},
    "body_site.trunk": {"en": "trunk", "fr": "tronc"},
    "body_site.upper_limb": {"en": "upper limb", "fr": "membre supérieur"},
    "body_site.lower_limb": {"en": "lower limb", "fr": "membre inférieur"},
    "body_site.palms_soles": {"en": "palm or sole (acral)", "fr": "paume ou plante (acral)"},
    "body_site.genital": {"en": "genital area", "fr": "région génitale"},
    "body_site.other": {"en": "other site", "fr": "autre site"},
    "modality.fundus": {"en": "fundus", "fr": "fond d'œil"},
    "modality.dermoscopy": {"en": "dermoscopy", "fr": "dermoscopie"},
    "urgency.routine": {"en": "routine", "fr": "habituelle"},
    "urgency.soon": {"en": "soon", "fr": "prochainement"},
    "urgency.urgent": {"en": "urgent", "fr": "urgente"},
    "icdr.none": {"en": "none", "fr": "aucune"},
    "icdr.mild": {"en": "mild", "fr": "légère"},
    "icdr.moderate": {"en": "moderate", "fr": "modérée"},
    "icdr.severe": {"en": "severe", "fr": "sévère"},
    "icdr.proliferative": {"en": "proliferative", "fr": "proliférante"},
    "icdr.ungradable": {"en": "ungradable", "fr": "ininterprétable"},
    "maculopathy.absent": {"en": "absent", "fr": "absente"},
    "maculopathy.present": {"en": "present", "fr": "présente"},
    "maculopathy.ungradable": {"en": "ungradable", "fr": "ininterprétable"},
    "diagnosis.melanoma": {"en": "melanoma", "fr": "mélanome"},
    "diagnosis.naevus": {"en": "naevus", "fr": "nævus"},
    "diagnosis.seborrhoeic_keratosis": {"en": "seborrhoeic keratosis", "fr": "kératose séborrhéique"},
    "diagnosis.basal_cell_carcinoma": {"en": "basal cell carcinoma", "fr": "carcinome basocellulaire"},
    "diagnosis.squamous_cell_carcinoma": {"en": "squamous cell carcinoma", "fr": "carcinome épidermoïde"},
    "diagnosis.actinic_keratosis": {"en": "actinic keratosis", "fr": "kératose actinique"},
    "diagnosis.dermatofibroma": {"en": "dermatofibroma", "fr": "dermatofibrome"},
    "diagnosis.vascular_lesion": {"en": "vascular lesion", "fr": "lésion vasculaire"},
    "diagnosis.other": {"en": "other", "fr": "autre"},
    "diagnosis.ungradable": {"en": "ungradable", "fr": "ininterprétable"},
    "read_kind.first": {"en": "first", "fr": "première"},
    "read_kind.second": {"en": "second", "fr": "seconde"},
    "read_kind.adjudication": {"en": "adjudication", "fr": "arbitrage"},
    "read_kind.amendment": {"en": "amendment", "fr": "modification"},
    "settlement.confirmed": {"en": "confirmed", "fr": "confirmée"},
    "settlement.amended": {"en": "amended", "fr": "modifiée"},
    "delivery.pending": {"en": "pending", "fr": "en attente"},
    "delivery.sent": {"en": "sent", "fr": "envoyé"},
    "delivery.stored": {"en": "stored", "fr": "enregistré"},
    "delivery.duplicate": {"en": "duplicate", "fr": "doublon"},
    "delivery.unknown_result": {"en": "unknown result", "fr": "résultat inconnu"},
    "delivery.conflict": {"en": "conflict", "fr": "conflit"},
    "delivery.unsendable": {"en": "not sendable", "fr": "non envoyable"},
    # a verdict's way to the device
    "delivery.label": {"en": "Verdict to the device:", "fr": "Avis vers l'appareil :"},
    "delivery.why.pending": {"en": "(waiting for the broker)", "fr": "(en attente du broker)"},
    "delivery.why.no_ingester": {
        "en": "(waiting for the ingester, which sends it: {heard})",
        "fr": "(en attente de l'ingesteur, qui l'envoie : {heard})",
    },
    "delivery.why.sent": {
        "en": "(waiting for the device's acknowledgement)",
        "fr": "(en attente de l'accusé de réception de l'appareil)",
    },
    "delivery.why.stored": {"en": "(the device has stored it)", "fr": "(l'appareil l'a enregistré)"},
    "delivery.why.duplicate": {"en": "(the device had it already)", "fr": "(l'appareil l'avait déjà)"},
    "delivery.why.unknown_result": {
        "en": "(the device does not know this result: it will not reach the nurse by the device; the dashboard "
        "lists it for a coordinator to pass on)",
        "fr": "(l'appareil ne connaît pas ce résultat : l'avis ne parviendra pas à l'infirmier par l'appareil ; "
        "le tableau de bord le signale à un coordinateur, qui le transmettra)",
    },
    "delivery.why.unsendable": {
        "en": "(queued by an earlier version of the station, it fails today's checks and the device would refuse it: "
        "the dashboard lists it for a coordinator to pass on)",
        "fr": "(mis en file par une version antérieure de la station, il échoue aux contrôles actuels et l'appareil le "
        "refuserait : le tableau de bord le signale à un coordinateur, qui le transmettra)",
    },
    "delivery.attempts": {"en": "attempts {count}", "fr": "tentatives {count}"},
    "delivery.none": {"en": "No verdict sent yet.", "fr": "Aucun avis envoyé pour l'instant."},
    # the photo
    "photo.section": {"en": "The photo the device shared", "fr": "La photo partagée par l'appareil"},
    "photo.title": {"en": "Photo", "fr": "Photo"},
    "photo.zoom_in": {"en": "Zoom in", "fr": "Agrandir"},
    "photo.zoom_out": {"en": "Zoom out", "fr": "Réduire"},
    "photo.fit": {"en": "Fit", "fr": "Ajuster"},
    "photo.view.colour": {"en": "Colour", "fr": "Couleur"},
    "photo.view.red_free": {"en": "Green channel", "fr": "Canal vert"},
    "photo.view.contrast": {"en": "Contrast", "fr": "Contraste"},
    "photo.alt": {
        "en": "The photo the device shared for this result",
        "fr": "La photo partagée par l'appareil pour ce résultat",
    },
    "photo.keys": {
        "en": "The photo: the arrow keys move it, + and - zoom",
        "fr": "La photo : les flèches la déplacent, + et - zooment",
    },
    "photo.audited": {
        "en": "Every view of this photo is recorded in the audit log. Drag or arrow keys to pan, wheel, "
        "buttons or + and - to zoom.",
        "fr": "Chaque affichage de cette photo est consigné dans le journal d'audit. Faites glisser ou "
        "utilisez les flèches pour déplacer ; molette, boutons ou + et - pour zoomer.",
    },
    # one result
    "result.title": {"en": "Result", "fr": "Résultat"},
    "result.back": {"en": "← Worklist", "fr": "← Liste de travail"},
    "result.nav": {"en": "Worklist", "fr": "Liste de travail"},
    "result.to_form": {"en": "Go to the read form", "fr": "Aller au formulaire de lecture"},
    "result.next": {"en": "Next result awaiting you →", "fr": "Résultat suivant qui vous attend →"},
    "result.heading": {"en": "Result from {device} at {site}", "fr": "Résultat de {device} à {site}"},
    "result.received": {"en": "received {when} UTC", "fr": "reçu le {when} UTC"},
    "result.photo_gone": {
        "en": "The photo this device shared is no longer held here (deleted after its retention period, or erased).",
        "fr": "La photo partagée par cet appareil n'est plus conservée ici (supprimée après sa durée de "
        "conservation, ou effacée).",
    },
    "result.photo_coming": {
        "en": "The device shares this result's photo; it has not arrived yet.",
        "fr": "L'appareil partage la photo de ce résultat ; elle n'est pas encore arrivée.",
    },
    "result.photo_missing_then": {
        "en": "Without it, a read rests on the figures below and its grading is not assessed.",
        "fr": "Sans elle, une lecture repose sur les données ci-dessous et sa gradation n'est pas évaluée.",
    },
    # A lesion is diagnosed, not graded: "Diagnostic" is masculine in French.
    "result.photo_missing_then_lesion": {
        "en": "Without it, a read rests on the figures below and its diagnosis is not assessed.",
        "fr": "Sans elle, une lecture repose sur les données ci-dessous et son diagnostic n'est pas évalué.",
    },
    # An eye the nurse could not photograph at all (closed, a small pupil, a cataract, an artificial eye):
    # no photo exists, and the device referred the patient (``images.photo_state``, "never").
    "result.never_photographed": {
        "en": "This eye could not be photographed",
        "fr": "Cet œil n'a pas pu être photographié",
    },
    "result.never_photographed_then": {
        "en": " at the device: no photo exists, and the device referred the patient for a specialist to "
        "examine the eye. Record the verdict and the urgency; the grading is recorded as not assessed.",
        "fr": " sur l'appareil : aucune photo n'existe, et l'appareil a adressé le patient pour qu'un "
        "spécialiste examine l'œil. Enregistrez l'avis et l'urgence ; la gradation est enregistrée comme "
        "non évaluée.",
    },
    "result.no_photo": {
        "en": "No photo was shared for this result",
        "fr": "Aucune photo n'a été partagée pour ce résultat",
    },
    "result.no_photo_then": {
        "en": ": the device keeps its photos (its setting {setting}). Base the read on the figures below (the "
        "triage, the model's score against its threshold, the image quality and its defects) and on this "
        "device's other results; record the verdict and the urgency, and leave the grading out: it is "
        "recorded as not assessed. If only the photo can settle it, refer, or call the site.",
        "fr": " : l'appareil garde ses photos (son réglage {setting}). Fondez la lecture sur les données "
        "ci-dessous (le tri, le score du modèle face à son seuil, la qualité d'image et ses défauts) et sur "
        "les autres résultats de cet appareil ; enregistrez l'avis et l'urgence, sans la gradation : elle "
        "est enregistrée comme non évaluée. Si seule la photo peut trancher, adressez, ou appelez le site.",
    },
    "result.no_photo_then_lesion": {
        "en": ": the device keeps its photos (its setting {setting}). Base the read on the figures below (the "
        "triage, the model's score against its threshold, the image quality and its defects) and on this "
        "device's other results; record the verdict and the urgency, and leave the diagnosis out: it is "
        "recorded as not assessed. If only the photo can settle it, refer, or call the site.",
        "fr": " : l'appareil garde ses photos (son réglage {setting}). Fondez la lecture sur les données "
        "ci-dessous (le tri, le score du modèle face à son seuil, la qualité d'image et ses défauts) et sur "
        "les autres résultats de cet appareil ; enregistrez l'avis et l'urgence, sans le diagnostic : il "
        "est enregistré comme non évalué. Si seule la photo peut trancher, adressez, ou appelez le site.",
    },
    # Another account opened the result lately (review_station.opened): it may be reading it now.
    "result.opened_by_now": {
        "en": "{who} opened this result less than a minute ago",
        "fr": "{who} a ouvert ce résultat il y a moins d'une minute",
    },
    "result.opened_by.one": {
        "en": "{who} opened this result {count} minute ago",
        "fr": "{who} a ouvert ce résultat il y a {count} minute",
    },
    "result.opened_by.other": {
        "en": "{who} opened this result {count} minutes ago",
        "fr": "{who} a ouvert ce résultat il y a {count} minutes",
    },
    "result.history": {"en": "This device's other results", "fr": "Autres résultats de cet appareil"},
    "result.none": {"en": "None.", "fr": "Aucun."},
    "result.reads": {"en": "Reads", "fr": "Lectures"},
    "read.column.read": {"en": "Read", "fr": "Lecture"},
    "read.column.by": {"en": "By", "fr": "Par"},
    "read.column.verdict": {"en": "Verdict", "fr": "Avis"},
    "read.column.grading": {"en": "Grading", "fr": "Gradation"},
    "read.column.urgency": {"en": "Urgency", "fr": "Urgence"},
    "read.column.refused": {"en": "Refused", "fr": "Refusée"},
    "read.icdr": {
        "en": "ICDR grade {grade}, maculopathy {maculopathy}",
        "fr": "grade ICDR {grade}, maculopathie {maculopathy}",
    },
    "read.not_assessed": {"en": "not assessed (no photo)", "fr": "non évaluée (pas de photo)"},
    # A lesion's diagnosis not made, in the form and the reads: "Diagnostic" is masculine in French.
    "read.not_diagnosed": {"en": "not assessed (no photo)", "fr": "non évalué (pas de photo)"},
    "read.comment": {"en": "Comment:", "fr": "Commentaire :"},
    "result.awaits_second": {
        "en": "You have read this result: it now awaits a second read by another reader, blind to yours. "
        "Nothing more to do here.",
        "fr": "Vous avez lu ce résultat : il attend maintenant une seconde lecture par un autre relecteur, "
        "sans voir la vôtre. Plus rien à faire ici.",
    },
    "result.own_read": {
        "en": "Your read, as you recorded it:",
        "fr": "Votre lecture, telle que vous l'avez enregistrée :",
    },
    "result.own_read_awaits": {"en": "awaiting the second read", "fr": "en attente de la seconde lecture"},
    "result.disagree": {
        "en": "The two reads disagree: the result awaits a coordinator's adjudication.",
        "fr": "Les deux lectures divergent : le résultat attend l'arbitrage d'un coordinateur.",
    },
    "result.disagree_mine": {
        "en": "The two reads disagree: the result awaits a coordinator's adjudication, one of the reads being yours.",
        "fr": "Les deux lectures divergent : le résultat attend l'arbitrage d'un coordinateur, l'une des "
        "lectures étant la vôtre.",
    },
    "result.hidden_reads.one": {
        "en": "{count} read so far, hidden until the result is settled (blind second read).",
        "fr": "{count} lecture pour l'instant, masquée jusqu'à ce que le résultat soit tranché (seconde "
        "lecture en aveugle).",
    },
    "result.hidden_reads.other": {
        "en": "{count} reads so far, hidden until the result is settled (blind second read).",
        "fr": "{count} lectures pour l'instant, masquées jusqu'à ce que le résultat soit tranché (seconde "
        "lecture en aveugle).",
    },
    "result.not_read": {"en": "Not read yet.", "fr": "Pas encore lu."},
    "contrary.title": {"en": "Refused contrary reads", "fr": "Lectures contraires refusées"},
    "contrary.note_coordinator": {
        "en": "A read refused because another was recorded first differs in what the patient gets from the "
        "read that stands: confirm the read that stands, or amend the verdict below.",
        "fr": "Une lecture refusée parce qu'une autre a été enregistrée avant change ce que reçoit le patient "
        "par rapport à la lecture retenue : confirmez la lecture retenue, ou modifiez l'avis ci-dessous.",
    },
    "contrary.note_reader": {
        "en": "A read refused because another was recorded first differs in what the patient gets from the "
        "read that stands: it awaits a coordinator.",
        "fr": "Une lecture refusée parce qu'une autre a été enregistrée avant change ce que reçoit le patient "
        "par rapport à la lecture retenue : elle attend un coordinateur.",
    },
    "contrary.settled": {"en": "{how} by {who}, {when} UTC", "fr": "{how} par {who}, le {when} UTC"},
    "contrary.to_settle": {"en": "to settle", "fr": "à trancher"},
    "contrary.confirm": {"en": "Confirm the read that stands", "fr": "Confirmer la lecture retenue"},
    # the read form
    "form.adjudication": {"en": "Adjudication", "fr": "Arbitrage"},
    "form.second_read": {"en": "Second read (blind)", "fr": "Seconde lecture (en aveugle)"},
    "form.amend": {
        "en": "Amend the verdict (sent to the device as a new verdict, which it shows in place of the last)",
        "fr": "Modifier l'avis (envoyé à l'appareil comme un nouvel avis, qu'il affiche à la place du précédent)",
    },
    "form.your_read": {"en": "Your read", "fr": "Votre lecture"},
    "form.choose": {"en": "choose", "fr": "choisir"},
    "form.not_assessed": {"en": "not assessed (no photo)", "fr": "non évaluée (pas de photo)"},
    "form.icdr_grade": {"en": "ICDR grade", "fr": "Grade ICDR"},
    "form.maculopathy": {"en": "Maculopathy", "fr": "Maculopathie"},
    "form.diagnosis": {"en": "Diagnosis", "fr": "Diagnostic"},
    "form.verdict": {"en": "Verdict", "fr": "Avis"},
    "form.urgency": {"en": "Urgency", "fr": "Urgence"},
    "form.comment": {
        "en": "Comment (sent to the device through the site's broker, which may keep it for days: no patient "
        "names or numbers)",
        "fr": "Commentaire (envoyé à l'appareil par le broker du site, qui peut le garder des jours : ni nom "
        "ni numéro de patient)",
    },
    "form.nurse_sees_all": {
        "en": "The nurse sees the verdict, the urgency of a referral or of an ungradable photo, the grading and "
        "the comment. A no-refer verdict refers no one: its urgency is routine.",
        "fr": "L'infirmier voit l'avis, l'urgence d'une orientation ou d'une photo ininterprétable, la gradation "
        "et le commentaire. Un avis « pas d'orientation » n'adresse personne : son urgence est habituelle.",
    },
    # Instead of "nurse_sees_all" under an eye that could not be photographed: no grading is offered or sent.
    "form.nurse_sees_ungraded": {
        "en": "The nurse sees the verdict, its urgency and the comment; no grading: this eye has no photo. A "
        "no-refer verdict refers no one: its urgency is routine.",
        "fr": "L'infirmier voit l'avis, son urgence et le commentaire ; pas de gradation : cet œil n'a pas de "
        "photo. Un avis « pas d'orientation » n'adresse personne : son urgence est habituelle.",
    },
    "form.nurse_sees_verdict": {
        "en": "This device shows the nurse the verdict and the comment only: if the urgency matters, say it in "
        "the comment or call the site.",
        "fr": "Cet appareil ne montre à l'infirmier que l'avis et le commentaire : si l'urgence compte, "
        "dites-la dans le commentaire ou appelez le site.",
    },
    "form.record": {"en": "Record the read", "fr": "Enregistrer la lecture"},
    # a result's figures (``describe``)
    "figure.triage": {"en": "Triage", "fr": "Tri"},
    "figure.modality": {"en": "Modality", "fr": "Modalité"},
    "figure.eye": {"en": "Eye", "fr": "Œil"},
    "figure.body_site": {"en": "Body site", "fr": "Site corporel"},
    "figure.captured": {"en": "Captured", "fr": "Pris"},
    "figure.dated": {"en": "Dated by the station", "fr": "Daté par la station"},
    "figure.score": {"en": "Model score", "fr": "Score du modèle"},
    "figure.threshold": {"en": "Threshold applied", "fr": "Seuil appliqué"},
    "figure.model": {"en": "Model", "fr": "Modèle"},
    "figure.operating_point": {"en": "Operating point", "fr": "Point de fonctionnement"},
    "figure.sensitivity": {"en": "  sensitivity", "fr": "  sensibilité"},
    "figure.specificity": {"en": "  specificity", "fr": "  spécificité"},
    "figure.quality": {"en": "Image quality", "fr": "Qualité d'image"},
    "figure.defect": {"en": "  defect", "fr": "  défaut"},
    "figure.quality_reference": {
        "en": "Image quality on the shipped limits",
        "fr": "Qualité d'image selon les limites livrées",
    },
    "figure.diameter": {"en": "Lesion diameter", "fr": "Diamètre de la lésion"},
    "figure.skin_tone": {"en": "Skin tone", "fr": "Teinte de peau"},
    "figure.calibration": {"en": "Calibration", "fr": "Étalonnage"},
    "figure.result_id": {"en": "Result id", "fr": "Identifiant du résultat"},
    "describe.triage.refer": {
        "en": "refer: the model found signs that need a specialist",
        "fr": "à adresser : le modèle a trouvé des signes qui demandent un spécialiste",
    },
    "describe.triage.no_refer": {
        "en": "no referral: the model found no referable signs",
        "fr": "pas d'orientation : le modèle n'a trouvé aucun signe justifiant d'adresser",
    },
    "describe.triage.ungradable": {
        "en": "ungradable: the photo could not be judged",
        "fr": "ininterprétable : la photo n'a pas pu être évaluée",
    },
    "describe.fundus": {"en": "fundus photograph", "fr": "photographie du fond d'œil"},
    "describe.dermoscopy": {"en": "dermoscopy photograph", "fr": "photographie de dermoscopie"},
    "describe.eye.L": {"en": "left eye", "fr": "œil gauche"},
    "describe.eye.R": {"en": "right eye", "fr": "œil droit"},
    "describe.not_recorded": {"en": "not recorded", "fr": "non renseigné"},
    "describe.clock.unsynchronised": {
        "en": "the device's clock was not kept in step by the network: this time may be off",
        "fr": "l'horloge de l'appareil n'était pas synchronisée par le réseau : cette heure peut être fausse",
    },
    "describe.clock.before_build": {
        "en": "the device's clock was not set (it read earlier than its software): the capture time is unknown",
        "fr": "l'horloge de l'appareil n'était pas réglée (elle indiquait une date antérieure à son logiciel) : "
        "l'heure de prise est inconnue",
    },
    "describe.clock.future": {
        "en": "later than the device's clock when it recorded it: the capture time is unknown",
        "fr": "postérieure à l'horloge de l'appareil lors de l'enregistrement : l'heure de prise est inconnue",
    },
    "describe.clock.other": {
        "en": "the device could not vouch for its clock",
        "fr": "l'appareil ne pouvait pas garantir son horloge",
    },
    "describe.after_arrival": {
        "en": "impossible: {span} after this result reached the station",
        "fr": "impossible : {span} après l'arrivée de ce résultat à la station",
    },
    "describe.before_project": {
        "en": "impossible: earlier than EdgeScreen's first day ({day})",
        "fr": "impossible : antérieure au premier jour d'EdgeScreen ({day})",
    },
    "describe.days": {"en": "{count} days", "fr": "{count} jours"},
    "describe.hours": {"en": "{count} hours", "fr": "{count} heures"},
    "describe.minutes": {"en": "{count} minutes", "fr": "{count} minutes"},
    "describe.utc": {"en": "{when} UTC", "fr": "{when} UTC"},
    "describe.doubted": {"en": "{when} ({doubts})", "fr": "{when} ({doubts})"},
    "describe.doubts_joint": {"en": "; ", "fr": " ; "},
    "describe.dated_capture": {
        "en": "{when}, the device's capture time",
        "fr": "{when}, l'heure de prise de l'appareil",
    },
    "describe.dated_arrival": {
        "en": "{when}, its arrival here: the device's time is not used",
        "fr": "{when}, son arrivée ici : l'heure de l'appareil n'est pas utilisée",
    },
    "describe.not_run": {"en": "not run (photo rejected)", "fr": "non exécuté (photo refusée)"},
    # An eye the nurse could not photograph (edgescreen_wire.result.NOT_PHOTOGRAPHED): no photo at all.
    "describe.not_run.no_photo": {"en": "not run (no photo)", "fr": "non exécuté (pas de photo)"},
    "describe.no_photo": {"en": "none (no photo)", "fr": "aucun (pas de photo)"},
    "describe.triage.not_photographed": {
        "en": "ungradable: the eye could not be photographed",
        "fr": "ininterprétable : l'œil n'a pas pu être photographié",
    },
    # {reason}: ``defect.not_photographed``, the words the worklist's Quality column and filter use.
    "describe.quality.not_photographed": {"en": "none: {reason}", "fr": "aucune : {reason}"},
    "describe.none": {"en": "none", "fr": "aucun"},
    "describe.model": {
        "en": "{id} version {version} (file sha256 {sha}…)",
        "fr": "{id} version {version} (fichier sha256 {sha}…)",
    },
    "describe.operating_point": {
        "en": "{name}: on the model's held-out test set",
        "fr": "{name} : sur le jeu de test réservé du modèle",
    },
    "describe.estimate": {
        "en": "{value}% (95% CI {low}% to {high}%)",
        "fr": "{value}\u00a0% (IC à 95\u00a0% de {low}\u00a0% à {high}\u00a0%)",
    },
    "describe.unknown_point": {
        "en": "{named}unknown to this station (no matching model card)",
        "fr": "{named}inconnu de cette station (aucune fiche de modèle correspondante)",
    },
    "describe.not_checked": {"en": "not checked", "fr": "non vérifiée"},
    "describe.quality.good": {"en": "good", "fr": "bonne"},
    "describe.quality.usable": {
        "en": "usable: gradable, with the defects below",
        "fr": "utilisable : interprétable, avec les défauts ci-dessous",
    },
    "describe.quality.reject": {
        "en": "not gradable: the device's quality gate refused the photo",
        "fr": "ininterprétable : le contrôle qualité de l'appareil a refusé la photo",
    },
    "describe.uncalibrated": {"en": "uncalibrated device", "fr": "appareil non étalonné"},
    "describe.diameter": {"en": "{mm} mm (to 0.5 mm)", "fr": "{mm} mm (à 0,5 mm près)"},
    "describe.not_measured": {"en": "not measured", "fr": "non mesurée"},
    "describe.no_diameter.ungradable": {
        "en": "not measured (the photo could not be graded)",
        "fr": "non mesuré (la photo n'a pas pu être interprétée)",
    },
    "describe.no_diameter.uncalibrated": {
        "en": "not measured: the device is not calibrated, so it has no scale",
        "fr": "non mesuré : l'appareil n'est pas étalonné, il n'a donc pas d'échelle",
    },
    "describe.no_diameter.not_sent": {
        "en": "not sent: the device's calibration has no scale, the lesion runs off the photo (the device "
        "then knows only a lower bound, and does not send it: it may well be over 6 mm), or its border "
        "was not found",
        "fr": "non envoyé : l'étalonnage de l'appareil n'a pas d'échelle, la lésion dépasse de la photo "
        "(l'appareil n'en connaît alors qu'une borne inférieure, qu'il n'envoie pas : elle peut bien dépasser "
        "6 mm), ou son contour n'a pas été trouvé",
    },
    # a read refused (``verdicts.ReadRefused``'s key): the codes it names are worded by ``refused``
    "refused.no_verdict": {"en": "choose a verdict", "fr": "choisissez un avis"},
    "refused.no_urgency": {"en": "choose an urgency", "fr": "choisissez une urgence"},
    "refused.fundus_diagnosis": {
        "en": "a fundus read has no dermoscopy diagnosis",
        "fr": "une lecture du fond d'œil n'a pas de diagnostic de dermoscopie",
    },
    "refused.fundus_grading": {
        "en": "a fundus read needs the ICDR grade and the maculopathy",
        "fr": "une lecture du fond d'œil demande le grade ICDR et la maculopathie",
    },
    "refused.fundus_grading_or_neither": {
        "en": "a fundus read needs the ICDR grade and the maculopathy, or neither when the grading is not "
        "assessed (no photo)",
        "fr": "une lecture du fond d'œil demande le grade ICDR et la maculopathie, ou aucun des deux quand la "
        "gradation n'est pas évaluée (pas de photo)",
    },
    "refused.dermoscopy_grade": {
        "en": "a dermoscopy read has no ICDR grade nor maculopathy",
        "fr": "une lecture de dermoscopie n'a ni grade ICDR ni maculopathie",
    },
    "refused.dermoscopy_diagnosis": {
        "en": "a dermoscopy read needs a diagnosis category",
        "fr": "une lecture de dermoscopie demande une catégorie de diagnostic",
    },
    "refused.dermoscopy_diagnosis_or_neither": {
        "en": "a dermoscopy read needs a diagnosis category, or neither when the grading is not assessed (no photo)",
        "fr": "une lecture de dermoscopie demande une catégorie de diagnostic, ou aucune quand la gradation "
        "n'est pas évaluée (pas de photo)",
    },
    "refused.unphotographed_graded": {
        "en": "this eye could not be photographed: its grading stays not assessed (no photo)",
        "fr": "cet œil n'a pas pu être photographié : sa gradation reste non évaluée (pas de photo)",
    },
    "refused.long_comment": {
        "en": "the comment is longer than {most} characters",
        "fr": "le commentaire dépasse {most} caractères",
    },
    "refused.comment_control": {
        "en": "the comment holds an invisible control character ({code}, character {place}), often pasted with "
        "the text: remove it (tabs and line breaks are fine)",
        "fr": "le commentaire contient un caractère de contrôle invisible ({code}, caractère {place}), souvent "
        "collé avec le texte : retirez-le (tabulations et retours à la ligne sont acceptés)",
    },
    "refused.no_refer_referable": {
        "en": "a no-refer verdict contradicts the {finding}, which is referable: refer, or correct it",
        "fr": "un avis « pas d'orientation » contredit {finding}, qui justifie d'adresser : adressez, ou corrigez-le",
    },
    "refused.no_refer_urgency": {
        "en": "a no-refer verdict refers no one, so its urgency is routine: refer if the patient is to be seen sooner",
        "fr": "un avis « pas d'orientation » n'adresse personne, son urgence est donc habituelle : "
        "adressez si le patient doit être vu plus tôt",
    },
    "refused.no_refer_ungradable": {
        "en": "a no-refer verdict needs a photo that could be graded ({finding})",
        "fr": "un avis « pas d'orientation » demande une photo interprétable ({finding})",
    },
    "refused.ungradable_graded": {
        "en": "an ungradable verdict contradicts the {finding} read off the photo",
        "fr": "un avis « ininterprétable » contredit {finding} lu sur la photo",
    },
    "refused.finding.fundus": {
        "en": "ICDR grade {grade}, maculopathy {maculopathy}",
        "fr": "le grade ICDR {grade}, maculopathie {maculopathy}",
    },
    "refused.finding.dermoscopy": {"en": "diagnosis {diagnosis}", "fr": "le diagnostic {diagnosis}"},
    "refused.no_result": {"en": "no such result", "fr": "aucun résultat de ce nom"},
    "refused.same_reader": {
        "en": "the second read must be by another reader",
        "fr": "la seconde lecture doit être faite par un autre relecteur",
    },
    "refused.adjudication": {
        "en": "a disagreement is adjudicated by a coordinator",
        "fr": "un désaccord est arbitré par un coordinateur",
    },
    "refused.read_meanwhile": {
        "en": "the result was read again meanwhile (its reads are shown): amend it again if need be",
        "fr": "le résultat a été relu entre-temps (ses lectures sont affichées) : modifiez-le à nouveau si besoin",
    },
    "refused.reviewed_already": {
        "en": "this result has been reviewed already (its reads are shown): a coordinator can amend the verdict "
        "from this page",
        "fr": "ce résultat a déjà été relu (ses lectures sont affichées) : un coordinateur peut modifier l'avis "
        "depuis cette page",
    },
    # the export
    "export.title": {"en": "Export", "fr": "Export"},
    "export.heading": {"en": "Export reviewed results", "fr": "Exporter les résultats relus"},
    "export.explained": {
        "en": "Reviewed results of one site dated from one date to another (both included), as FHIR R4 JSON or "
        "CSV. A result is dated by the device's capture time when its clock can be trusted, else by its "
        "arrival here; both exports say which.",
        "fr": "Les résultats relus d'un site, datés d'une date à une autre (toutes deux comprises), en FHIR R4 "
        "JSON ou en CSV. Un résultat est daté de l'heure de prise de l'appareil quand son horloge est fiable, "
        "sinon de son arrivée ici ; les deux exports disent laquelle.",
    },
    "export.codes": {
        "en": "The files keep the station's codes and English column names (refer, no_refer, urgent…), in "
        "whatever language this page is read.",
        "fr": "Les fichiers gardent les codes de la station et les noms de colonnes en anglais (refer, no_refer, "
        "urgent…), quelle que soit la langue de cette page.",
    },
    "export.audited": {
        "en": "The export is written to the audit log (who, which site and dates, how many results), not its content.",
        "fr": "L'export est consigné dans le journal d'audit (qui, quel site et quelles dates, combien de "
        "résultats), pas son contenu.",
    },
    "export.format": {"en": "Format", "fr": "Format"},
    "export.site": {"en": "Site id", "fr": "Identifiant du site"},
    "export.from": {"en": "From", "fr": "Du"},
    "export.to": {"en": "To", "fr": "Au"},
    "export.download": {"en": "Download", "fr": "Télécharger"},
    "export.fill_in": {
        "en": "fill in every field: format, site, from and to",
        "fr": "remplissez chaque champ : format, site, du et au",
    },
    "export.refused": {"en": "Export refused: {why}", "fr": "Export refusé : {why}"},
    "export.refused.not_yours": {
        "en": "no site '{site}' among the sites you read",
        "fr": "aucun site « {site} » parmi les sites que vous lisez",
    },
    "export.refused.bad_from": {
        "en": "from '{text}': expected a date as YYYY-MM-DD",
        "fr": "du « {text} » : date attendue sous la forme AAAA-MM-JJ",
    },
    "export.refused.bad_to": {
        "en": "to '{text}': expected a date as YYYY-MM-DD",
        "fr": "au « {text} » : date attendue sous la forme AAAA-MM-JJ",
    },
    "export.refused.empty_range": {
        "en": "the date range is empty: 'to' is before 'from'",
        "fr": "la période est vide : la date de fin précède celle de début",
    },
    "export.refused.no_results": {
        "en": "no reviewed results of site '{site}' dated from {start} to {end}",
        "fr": "aucun résultat relu du site « {site} » daté du {start} au {end}",
    },
    "export.refused.bad_format": {
        "en": "format '{format}': expected FHIR or CSV",
        "fr": "format « {format} » : FHIR ou CSV attendu",
    },
    "export.refused.out_exists": {
        "en": "{path}: already exists; an export never writes over a file: give a new file name",
        "fr": "{path} existe déjà ; un export n'écrase jamais un fichier : indiquez un nouveau nom de fichier",
    },
    "export.refused.bad_site": {"en": "{detail}", "fr": "identifiant de site refusé ({detail})"},
    "export.refused.fhir_check": {
        "en": "the FHIR export failed its coded-value check: {detail}",
        "fr": "l'export FHIR a échoué à son contrôle des valeurs codées : {detail}",
    },
    # quarantine
    "quarantine.title": {"en": "Quarantine", "fr": "Quarantaine"},
    "quarantine.waiting": {
        "en": "Results waiting for their device's enrolment",
        "fr": "Résultats en attente de l'enrôlement de leur appareil",
    },
    "quarantine.waiting_explained": {
        "en": "These devices sent valid results before they were enrolled here; they count them delivered. "
        "Enrolling each device at the site its results name brings them into the worklist:",
        "fr": "Ces appareils ont envoyé des résultats valides avant d'être enrôlés ici ; ils les comptent comme "
        "remis. Enrôler chaque appareil au site que nomment ses résultats les fait entrer dans la liste de "
        "travail :",
    },
    "quarantine.results": {"en": "Results", "fr": "Résultats"},
    "quarantine.command": {"en": "Command", "fr": "Commande"},
    "quarantine.refused": {"en": "Refused messages", "fr": "Messages refusés"},
    "quarantine.refused_explained": {
        "en": "Messages the ingester refused, newest first: the first bytes of each are kept, and the whole of a "
        "result that only waits for its device's enrolment.",
        "fr": "Les messages refusés par l'ingesteur, les plus récents d'abord : les premiers octets de chacun "
        "sont gardés, et en entier un résultat qui n'attend que l'enrôlement de son appareil.",
    },
    "quarantine.reasons": {
        "en": "Each reason is the ingester's, as its log says it.",
        "fr": "Chaque motif est celui de l'ingesteur, tel que son journal le dit (en anglais).",
    },
    "quarantine.received": {"en": "Received (UTC)", "fr": "Reçu (UTC)"},
    "quarantine.topic": {"en": "Topic", "fr": "Topic"},
    "quarantine.reason": {"en": "Reason", "fr": "Motif"},
    "quarantine.bytes": {"en": "Bytes", "fr": "Octets"},
    "quarantine.released_by": {"en": "Released by", "fr": "Libéré par"},
    "quarantine.enrolling": {"en": "enrolling {device} at {site}", "fr": "l'enrôlement de {device} à {site}"},
    "quarantine.stays": {"en": "nothing: it stays", "fr": "rien : il reste"},
    "quarantine.empty": {"en": "Nothing in quarantine.", "fr": "Rien en quarantaine."},
    # the dashboard
    "dashboard.title": {"en": "Dashboard", "fr": "Tableau de bord"},
    "dashboard.site_all_yours": {"en": "Site (empty: all of yours)", "fr": "Site (vide : tous les vôtres)"},
    "dashboard.site_all": {"en": "Site (empty: all)", "fr": "Site (vide : tous)"},
    "dashboard.days": {"en": "Days", "fr": "Jours"},
    "dashboard.show": {"en": "Show", "fr": "Afficher"},
    "dashboard.broker_drops": {
        "en": "The broker dropped {count} queued messages, the last noticed at {when} UTC: a queue was full (an "
        "ingester stopped, or a device offline, for longer than the broker's queues hold). Results among them "
        "are lost to this station although their devices count them sent; verdicts among them never reach "
        "their device. The broker's counter names neither the client nor the messages: its log says which "
        'client ("Outgoing messages are being dropped for client ..."). See the README, "Sizing the '
        "broker's queues\".",
        "fr": "Le broker a abandonné {count} messages en file, le dernier constaté le {when} UTC : une file était "
        "pleine (un ingesteur arrêté, ou un appareil hors ligne, plus longtemps que les files du broker ne "
        "gardent). Les résultats parmi eux sont perdus pour cette station bien que leurs appareils les "
        "comptent envoyés ; les avis parmi eux n'atteignent jamais leur appareil. Le compteur du broker ne "
        "nomme ni le client ni les messages : son journal dit quel client (« Outgoing messages are being "
        "dropped for client ... »). Voir le README, « Sizing the broker's queues ».",
    },
    "dashboard.takeovers": {
        "en": "An ingester's session at the broker looked taken over {count} times, the last at {when} UTC "
        "(client id {client}): the broker said so, or it lost the connection again and again. The broker names "
        "a session after the client's certificate, so another client holds that ingester's certificate: two "
        "ingesters given one certificate knock each other off while results wait, and a copy elsewhere is a "
        "stolen station identity (revoke it). The ingester's log says each one "
        '(review.ingest_session_taken_over). See the README, "The site broker".',
        "fr": "La session d'un ingesteur au broker a semblé reprise {count} fois, la dernière le {when} UTC "
        "(identifiant client {client}) : le broker l'a dit, ou il a perdu la connexion encore et encore. Le "
        "broker nomme une session d'après le certificat du client, donc un autre client détient le certificat "
        "de cet ingesteur : deux ingesteurs dotés d'un même certificat se délogent l'un l'autre pendant que "
        "les résultats attendent, et une copie ailleurs est une identité de station volée (révoquez-la). Le "
        "journal de l'ingesteur dit chacune (review.ingest_session_taken_over). Voir le README, « The site "
        "broker ».",
    },
    "dashboard.lost_sessions": {
        "en": "The broker had lost an ingester's session {count} times, the last noticed at {when} UTC (client "
        "id {client}): it started without its persistence file (a new or reinstalled broker, a lost "
        "mosquitto.db), or the ingester was away longer than its session expiry. Until an ingester subscribed "
        'again, the broker dropped the results devices sent ("No matching subscribers"), and the devices '
        "count them sent: compare each device's records of that time with the worklist. See the README, "
        '"The site broker".',
        "fr": "Le broker avait perdu la session d'un ingesteur {count} fois, la dernière constatée le {when} UTC "
        "(identifiant client {client}) : il a démarré sans son fichier de persistance (un broker neuf ou "
        "réinstallé, un mosquitto.db perdu), ou l'ingesteur est resté absent plus longtemps que l'expiration "
        "de sa session. Tant qu'aucun ingesteur ne s'était réabonné, le broker a abandonné les résultats "
        "envoyés par les appareils (« No matching subscribers »), que les appareils comptent envoyés : "
        "comparez les registres de chaque appareil pour cette période avec la liste de travail. Voir le "
        "README, « The site broker ».",
    },
    "dashboard.undelivered": {
        "en": "Verdicts that have not reached a nurse",
        "fr": "Avis qui ne sont pas parvenus à un infirmier",
    },
    "dashboard.undelivered_explained": {
        "en": "These verdicts will not reach the device's nurse by the device: pass each one to the clinic "
        "another way (the clinic finds the patient in its visit register by device, time and eye or body "
        "site), then mark it handled.",
        "fr": "Ces avis ne parviendront pas à l'infirmier par l'appareil : transmettez chacun au centre par un "
        "autre moyen (le centre retrouve le patient dans son registre de visites par appareil, heure et œil ou "
        "site corporel), puis marquez-le traité.",
    },
    "dashboard.result": {"en": "Result", "fr": "Résultat"},
    "dashboard.verdict": {"en": "Verdict", "fr": "Avis"},
    "dashboard.why": {"en": "Why", "fr": "Pourquoi"},
    "dashboard.why.unknown_result": {
        "en": "the device does not hold this result (erased on the patient's request, restored from an older backup, "
        "or replaced)",
        "fr": "l'appareil ne détient pas ce résultat (effacé à la demande du patient, restauré d'une sauvegarde plus "
        "ancienne, ou remplacé)",
    },
    "dashboard.why.unsendable": {
        "en": "queued by an earlier version of the station, it fails today's checks: the device would refuse it",
        "fr": "mis en file par une version antérieure de la station, il échoue aux contrôles actuels : l'appareil le "
        "refuserait",
    },
    "dashboard.why.retired": {
        "en": "the device is retired: nothing more is sent to it",
        "fr": "l'appareil est retiré : plus rien ne lui est envoyé",
    },
    "dashboard.why.unacknowledged": {
        "en": "not acknowledged by the device in {hours} h",
        "fr": "pas d'accusé de réception de l'appareil en {hours} h",
    },
    "dashboard.handled": {"en": "Passed on: mark handled", "fr": "Transmis : marquer traité"},
    "dashboard.all_delivered": {
        "en": "None: every verdict reached its device, or is on its way.",
        "fr": "Aucun : chaque avis a atteint son appareil, ou est en route.",
    },
    "dashboard.quiet": {
        "en": "Devices quiet for more than {hours} h, or never reported",
        "fr": "Appareils silencieux depuis plus de {hours} h, ou jamais signalés",
    },
    "dashboard.quiet.never": {"en": "never reported (enrolled {when})", "fr": "jamais signalé (enrôlé le {when})"},
    "dashboard.quiet.offline": {"en": "offline since {when} UTC", "fr": "hors ligne depuis le {when} UTC"},
    "dashboard.quiet.last_seen": {"en": "last seen {when} UTC", "fr": "vu pour la dernière fois le {when} UTC"},
    "dashboard.unsent_notices": {
        "en": "Erasures not told to their device for more than {hours} h",
        "fr": "Effacements non notifiés à leur appareil depuis plus de {hours} h",
    },
    "dashboard.unsent_notices_explained": {
        "en": "The station erased these results, but could not send their device its notice of them: until it "
        "does, the device keeps them, and a device restored from a backup keeps the patients erased since. "
        "Put right the reason, then restart the ingester: it sends the notice at its next connection.",
        "fr": "La station a effacé ces résultats, mais n'a pas pu en envoyer la notification à leur appareil : "
        "tant qu'elle ne l'a pas fait, l'appareil les garde, et un appareil restauré d'une sauvegarde garde les "
        "patients effacés depuis. Corrigez la cause, puis redémarrez l'ingesteur : il envoie la notification à "
        "sa prochaine connexion.",
    },
    "dashboard.unsent_results": {"en": "Results not told", "fr": "Résultats non notifiés"},
    "dashboard.owed_since": {"en": "Owed since (UTC)", "fr": "Due depuis (UTC)"},
    "dashboard.not_sent_why": {"en": "Why it is not sent", "fr": "Pourquoi elle n'est pas envoyée"},
    "unsent_notice.why.no_key": {
        "en": "no verdict key ([verdicts] private_key_file): a device takes only a signed notice",
        "fr": "pas de clé d'avis ([verdicts] private_key_file) : un appareil n'accepte qu'une notification signée",
    },
    "unsent_notice.why.not_encoded": {
        "en": "more results than one notice names ({most} at most)",
        "fr": "plus de résultats qu'une notification n'en nomme ({most} au plus)",
    },
    "unsent_notice.why.refused": {
        "en": "the broker refused it ({detail}): does its ACL (broker/acl) let the station write the device's "
        "erased topic?",
        "fr": "le broker l'a refusée ({detail}) : son ACL (broker/acl) permet-elle à la station d'écrire le topic "
        "erased de l'appareil ?",
    },
    "unsent_notice.why.not_published": {
        "en": "it could not be published ({detail})",
        "fr": "elle n'a pas pu être publiée ({detail})",
    },
    "unsent_notice.why.unknown.running": {
        "en": "not recorded: the ingester runs but could not record why; its log names the cause "
        "(review.erased_notice_not_sent)",
        "fr": "non enregistré : l'ingesteur tourne mais n'a pas pu enregistrer pourquoi ; son journal en donne la "
        "cause (review.erased_notice_not_sent)",
    },
    "unsent_notice.why.unknown.not_connected": {
        "en": "the ingester, which sends it, runs but is not connected to the broker: the notice waits for that "
        "connection",
        "fr": "l'ingesteur, qui l'envoie, tourne mais n'est pas connecté au broker : la notification attend "
        "cette connexion",
    },
    "unsent_notice.why.unknown.stopped": {
        "en": "the ingester, which sends it, is not running ({heard})",
        "fr": "l'ingesteur, qui l'envoie, ne tourne pas ({heard})",
    },
    # the ingester's heartbeat (review_station/heartbeats.py)
    "ingester.connected": {"en": "running, connected to the broker", "fr": "en marche, connecté au broker"},
    "ingester.not_connected": {
        "en": "running, not connected to the broker",
        "fr": "en marche, non connecté au broker",
    },
    "ingester.not_heard": {"en": "not heard from since {since} UTC", "fr": "sans nouvelles depuis le {since} UTC"},
    "ingester.never": {"en": "never run on this station", "fr": "jamais lancé sur cette station"},
    "dashboard.ingesters": {"en": "Ingester", "fr": "Ingesteur"},
    "dashboard.ingesters_explained": {
        "en": "The ingester stores the devices' results and sends the specialists' verdicts and the erasure "
        "notices to the devices.",
        "fr": "L'ingesteur enregistre les résultats des appareils et envoie aux appareils les avis des "
        "spécialistes et les notifications d'effacement.",
    },
    "dashboard.ingesters_down": {
        "en": "No ingester is running: verdicts and erasure notices are not reaching the devices, and results wait "
        "at the broker. Start it (systemctl start edgescreen-review-ingest); its log says why it stopped.",
        "fr": "Aucun ingesteur ne tourne : les avis et les notifications d'effacement ne parviennent pas aux "
        "appareils, et les résultats attendent au broker. Démarrez-le (systemctl start "
        "edgescreen-review-ingest) ; son journal dit pourquoi il s'est arrêté.",
    },
    "dashboard.ingester_state": {"en": "State", "fr": "État"},
    "dashboard.ingester_client": {"en": "Client id", "fr": "Identifiant client"},
    "dashboard.ingester_host": {"en": "Host (pid)", "fr": "Hôte (pid)"},
    "dashboard.ingester_started": {"en": "Started (UTC)", "fr": "Démarré (UTC)"},
    "dashboard.none_quiet": {
        "en": "None: every active device was heard from recently.",
        "fr": "Aucun : chaque appareil actif s'est manifesté récemment.",
    },
    "dashboard.quarantined.one": {
        "en": "In {quarantine}: {count} refused message",
        "fr": "En {quarantine} : {count} message refusé",
    },
    "dashboard.quarantined.other": {
        "en": "In {quarantine}: {count} refused messages",
        "fr": "En {quarantine} : {count} messages refusés",
    },
    "dashboard.quarantine_link": {"en": "quarantine", "fr": "quarantaine"},
    "dashboard.awaiting_enrolment.one": {
        "en": ", {count} of them a result from a device not enrolled here, which enrolling it releases",
        "fr": ", dont {count} résultat d'un appareil non enrôlé ici, que son enrôlement libère",
    },
    "dashboard.awaiting_enrolment.other": {
        "en": ", {count} of them results from devices not enrolled here, which enrolling them releases",
        "fr": ", dont {count} résultats d'appareils non enrôlés ici, que leur enrôlement libère",
    },
    "dashboard.devices": {"en": "Devices", "fr": "Appareils"},
    "dashboard.status": {"en": "Status (retained topic)", "fr": "État (topic retenu)"},
    "dashboard.last_seen": {"en": "Last seen (UTC)", "fr": "Vu pour la dernière fois (UTC)"},
    # A device's retained status topic, its value said in the reader's words (the topic's own in ``data-status``).
    "device_status.online": {"en": "online", "fr": "en ligne"},
    "device_status.offline": {"en": "offline", "fr": "hors ligne"},
    "dashboard.retired": {"en": "retired", "fr": "retiré"},
    "dashboard.never_reported": {"en": "never reported", "fr": "jamais signalé"},
    "dashboard.never": {"en": "never", "fr": "jamais"},
    "dashboard.no_device": {"en": "No device enrolled.", "fr": "Aucun appareil enrôlé."},
    "dashboard.performance": {
        "en": "Real-world performance against the specialists",
        "fr": "Performance réelle face aux spécialistes",
    },
    "dashboard.performance_explained": {
        "en": "Counts the results whose final read graded the photo. A read made without a photo (its grading not "
        "assessed) rests on the device's own figures, so it is left out: it cannot check the model.",
        "fr": "Compte les résultats dont la lecture finale a gradé la photo. Une lecture faite sans photo (sa "
        "gradation non évaluée) repose sur les données de l'appareil lui-même, elle est donc écartée : elle ne "
        "peut pas vérifier le modèle.",
    },
    "dashboard.model": {"en": "Model", "fr": "Modèle"},
    "dashboard.model_skin_tone": {"en": "Model, skin tone", "fr": "Modèle, teinte de peau"},
    "dashboard.model_and_tone": {"en": "{model}, {tone} skin", "fr": "{model}, peau {tone}"},
    "dashboard.sensitivity": {"en": "Sensitivity", "fr": "Sensibilité"},
    "dashboard.specificity": {"en": "Specificity", "fr": "Spécificité"},
    "dashboard.agreement": {"en": "Agreement", "fr": "Concordance"},
    "dashboard.no_reviewed": {"en": "No reviewed results yet.", "fr": "Aucun résultat relu pour l'instant."},
    "dashboard.per_skin_tone": {
        "en": "Per skin-tone category (dermoscopy)",
        "fr": "Par catégorie de teinte de peau (dermoscopie)",
    },
    "dashboard.skin_tone_explained": {
        "en": "From the results whose device sends {schema}, which carries the skin-tone category (never the ITA "
        "angle).",
        "fr": "D'après les résultats dont l'appareil envoie {schema}, qui porte la catégorie de teinte de peau "
        "(jamais l'angle ITA).",
    },
    "dashboard.no_skin_tone": {
        "en": "No reviewed dermoscopy result with a skin-tone category yet.",
        "fr": "Aucun résultat de dermoscopie relu avec une catégorie de teinte de peau pour l'instant.",
    },
    "dashboard.activity": {"en": "Activity over the last {days} days", "fr": "Activité des {days} derniers jours"},
    "dashboard.median_delay": {
        "en": "Median capture-to-receipt delay:",
        "fr": "Délai médian de la prise à la réception :",
    },
    "dashboard.hours": {"en": "{hours} h", "fr": "{hours} h"},
    "dashboard.no_results": {"en": "no results", "fr": "aucun résultat"},
    "dashboard.no_cases": {"en": "no cases yet", "fr": "aucun cas pour l'instant"},
    "dashboard.proportion": {
        "en": "{value}% (95% CI {low}% to {high}%; {hits}/{total})",
        "fr": "{value}\u00a0% (IC à 95\u00a0% de {low}\u00a0% à {high}\u00a0% ; {hits}/{total})",
    },
    # the dashboard's plots
    "plot.screenings": {"en": "Screenings per day by triage", "fr": "Dépistages par jour selon le tri"},
    "plot.screenings_axis": {"en": "screenings", "fr": "dépistages"},
    "plot.ungradable": {"en": "Ungradable rate per day", "fr": "Taux d'ininterprétables par jour"},
    "plot.ungradable_axis": {"en": "% ungradable", "fr": "% ininterprétables"},
    "plot.delay": {"en": "Capture-to-receipt delay", "fr": "Délai de la prise à la réception"},
    "plot.delay_axis": {
        "en": "hours from capture to receipt at the station",
        "fr": "heures de la prise à la réception par la station",
    },
    "plot.results_axis": {"en": "results", "fr": "résultats"},
    "plot.empty": {"en": "no screenings in this period", "fr": "aucun dépistage sur cette période"},
    # text in an address or a form the station does not take (``inputs.InputRefused``)
    "input.control": {
        "en": "There is an invisible control character in {what} ({code}, character {place}), often pasted with "
        "the text: remove it (tabs and line breaks are fine).",
        "fr": "Il y a un caractère de contrôle invisible dans {what} ({code}, caractère {place}), souvent collé "
        "avec le texte : retirez-le (tabulations et retours à la ligne sont acceptés).",
    },
    "input.no_refused_read": {
        "en": "The form names no refused read: reload the page.",
        "fr": "Le formulaire ne désigne aucune lecture refusée : rechargez la page.",
    },
    "input.what.the_site": {"en": "the site", "fr": "le site"},
    "input.what.the_site_filter": {"en": "the site filter", "fr": "le filtre du site"},
    "input.what.the_device_filter": {"en": "the device filter", "fr": "le filtre de l'appareil"},
    "input.what.the_modality_filter": {"en": "the modality filter", "fr": "le filtre de la modalité"},
    "input.what.the_triage_filter": {"en": "the triage filter", "fr": "le filtre du tri"},
    "input.what.the_quality_filter": {"en": "the quality filter", "fr": "le filtre de la qualité"},
    "input.what.the_state_filter": {"en": "the state filter", "fr": "le filtre de l'état"},
    "input.what.the_captured_from_filter": {"en": "the 'dated from' filter", "fr": "le filtre « daté du »"},
    "input.what.the_captured_to_filter": {"en": "the 'to' filter", "fr": "le filtre « au »"},
    "input.what.the_contrary_filter": {"en": "the contrary-read filter", "fr": "le filtre des lectures contraires"},
    # refusals and errors
    "error.not_allowed": {"en": "Not allowed", "fr": "Non autorisé"},
    "error.not_found": {"en": "Not found", "fr": "Introuvable"},
    "error.refused": {"en": "Refused", "fr": "Refusé"},
    "error.back": {"en": "Back to the worklist", "fr": "Retour à la liste de travail"},
    "error.role": {"en": "This page is for {roles} accounts.", "fr": "Cette page est réservée aux comptes {roles}."},
    "error.or": {"en": " or ", "fr": " ou "},
    "error.stale_form": {
        "en": "The form is stale or forged (CSRF check failed): reload the page.",
        "fr": "Le formulaire est périmé ou falsifié (contrôle CSRF échoué) : rechargez la page.",
    },
    "error.no_such_page": {
        "en": "No page of this station has this address.",
        "fr": "Aucune page de cette station n'a cette adresse.",
    },
    "error.no_such_result": {"en": "No such result.", "fr": "Aucun résultat de ce nom."},
    "error.erased": {"en": "Erased", "fr": "Effacé"},
    "error.erased_result": {
        "en": "This result was erased at its patient's request (on its device or at this station): nothing more "
        "is recorded for it, and a read being written on it was not recorded.",
        "fr": "Ce résultat a été effacé à la demande de son patient (sur son appareil ou à cette station) : plus "
        "rien n'est enregistré pour lui, et une lecture en cours de rédaction n'a pas été enregistrée.",
    },
    "error.form_too_large": {
        "en": "This request was far larger than any form of this station: nothing was done.",
        "fr": "Cette requête était bien plus grande que tout formulaire de cette station : rien n'a été fait.",
    },
    "error.no_result_id": {
        "en": "No such result: a result id is 32 hexadecimal digits.",
        "fr": "Aucun résultat de ce nom : un identifiant de résultat compte 32 chiffres hexadécimaux.",
    },
    "error.bad_query": {
        "en": "The address holds a value this page does not take.",
        "fr": "L'adresse contient une valeur que cette page n'accepte pas.",
    },
    "error.failed": {"en": "Something went wrong", "fr": "Un problème est survenu"},
    "error.failed_text": {
        "en": "The station could not answer: try again; if it happens again, tell its administrator.",
        "fr": "La station n'a pas pu répondre : réessayez ; si cela se reproduit, prévenez son administrateur.",
    },
    # A database error (its server stopped, a table it cannot read): the administrator's to see, the cause not a
    # reader's to guess at; the station's log has the database's own words.
    "error.database_text": {
        "en": "The station could not read or write its database: try again; if it happens again, tell its "
        "administrator.",
        "fr": "La station n'a pas pu lire ou écrire sa base de données : réessayez ; si cela se reproduit, prévenez "
        "son administrateur.",
    },
    "error.no_undelivered": {
        "en": "No such undelivered verdict (handled already, delivered meanwhile, or another site's).",
        "fr": "Aucun avis non remis de ce nom (déjà traité, remis entre-temps, ou d'un autre site).",
    },
    # The command line (``review_station/cli.py``), for the administrator, coordinator or technician at
    # the station's console, in ``[web] language``: what a command did, and why it refused. Ids, paths
    # and the system's own words (a database's, a key file's) are values, as they came.
    "cli.refused": {"en": "refused: {why}", "fr": "refusé : {why}"},
    "cli.database_error": {"en": "database error: {problem}", "fr": "erreur de base de données : {problem}"},
    "cli.key_made": {
        "en": "private key {private} (mode 0600); give devices {public}",
        "fr": "clé privée {private} (mode 0600) ; donnez aux appareils {public}",
    },
    "cli.photos_purged.one": {
        "en": "deleted {count} photo past its retention",
        "fr": "{count} photo supprimée après sa durée de conservation",
    },
    "cli.photos_purged.other": {
        "en": "deleted {count} photos past their retention",
        "fr": "{count} photos supprimées après leur durée de conservation",
    },
    "cli.photo_erased": {"en": "deleted the photo of result {result}", "fr": "photo du résultat {result} supprimée"},
    "cli.no_photo": {
        "en": "the station holds no photo of result {result}",
        "fr": "la station ne détient aucune photo du résultat {result}",
    },
    "cli.results_erased.one": {
        "en": "erased {count} result with its reads, verdicts and photo: {results}",
        "fr": "{count} résultat effacé avec ses lectures, avis et photo : {results}",
    },
    "cli.results_erased.other": {
        "en": "erased {count} results with their reads, verdicts and photos: {results}",
        "fr": "{count} résultats effacés avec leurs lectures, avis et photos : {results}",
    },
    # A tombstone (review_station/erasure.py): erased here before, by its device's request
    # (edgescreen.erasure/1) or an earlier command, or named by one before it arrived (refused when it comes).
    "cli.results_erased_before.one": {
        "en": "erased already, or refused when it arrives: {results}",
        "fr": "déjà effacé, ou refusé à son arrivée : {results}",
    },
    "cli.results_erased_before.other": {
        "en": "erased already, or refused when they arrive: {results}",
        "fr": "déjà effacés, ou refusés à leur arrivée : {results}",
    },
    # Never stored here, but held in quarantine (its device not enrolled, another site, ...): those copies
    # are erased, and the id is tombstoned as an unknown one is (review_station/erasure.py).
    "cli.results_quarantine_erased": {
        "en": "erased the copies held in quarantine, never stored as results here (refused if they arrive "
        "again): {results}",
        "fr": "copies gardées en quarantaine effacées, jamais enregistrées ici comme résultats (refusées si "
        "elles arrivent de nouveau) : {results}",
    },
    "cli.results_unknown": {
        "en": "no such result here (not received yet, or mistyped; refused if it arrives): {results}",
        "fr": "aucun résultat de ce nom ici (pas encore reçu, ou mal saisi ; refusé s'il arrive) : {results}",
    },
    "cli.enrolled": {"en": "enrolled {device} at {site}; {released}", "fr": "{device} enrôlé à {site} ; {released}"},
    "cli.released": {
        "en": "{count} of its results released from quarantine",
        "fr": "résultats sortis de quarantaine : {count}",
    },
    "cli.released_repeats": {
        "en": " ({count} repeated messages dropped)",
        "fr": " (messages répétés écartés : {count})",
    },
    "cli.released_kept": {
        "en": "; {count} refused again, kept in quarantine (see /quarantine)",
        "fr": " ; refusés de nouveau, gardés en quarantaine : {count} (voir /quarantine)",
    },
    "cli.retired": {
        "en": "retired {device}: its results now go to quarantine. A lost or stolen device keeps its certificate: "
        "revoke it (broker/revoke-certs CA_DIR {device}) and install the new crl.pem on the broker and here "
        '(README, "Revoking a certificate")',
        "fr": "{device} retiré : ses résultats vont désormais en quarantaine. Un appareil perdu ou volé garde son "
        "certificat : révoquez-le (broker/revoke-certs CA_DIR {device}) et installez le nouveau crl.pem sur le "
        "broker et ici (README, « Revoking a certificate »)",
    },
    "cli.resent_none": {
        "en": "no verdict of {device} stands: nothing to send again",
        "fr": "aucun avis de {device} n'est en vigueur : rien à renvoyer",
    },
    "cli.resent.one": {
        "en": "{count} verdict queued again for {device}: the ingester sends it, the device stores it if it lost it",
        "fr": "{count} avis remis en file pour {device} : l'ingesteur l'envoie, l'appareil l'enregistre s'il l'a perdu",
    },
    "cli.resent.other": {
        "en": "{count} verdicts queued again for {device}: it stores those it lost, the ingester sends them",
        "fr": "{count} avis remis en file pour {device} : il enregistre ceux qu'il a perdus, l'ingesteur les envoie",
    },
    "cli.unsent_notice.one": {
        "en": "  {device}: the notice of {count} erased result is not sent, owed since {since} UTC: {why}",
        "fr": "  {device} : la notification de {count} résultat effacé n'est pas envoyée, due depuis le {since} UTC : "
        "{why}",
    },
    "cli.unsent_notice.other": {
        "en": "  {device}: the notice of {count} erased results is not sent, owed since {since} UTC: {why}",
        "fr": "  {device} : la notification de {count} résultats effacés n'est pas envoyée, due depuis le {since} "
        "UTC : {why}",
    },
    "cli.password": {"en": "password: ", "fr": "mot de passe : "},
    "cli.password_again": {"en": "again: ", "fr": "à nouveau : "},
    "cli.every_site": {"en": "every site", "fr": "tous les sites"},
    "cli.user_added": {"en": "added {user} ({role}, reads {sites})", "fr": "{user} ajouté ({role}, lit {sites})"},
    "cli.user_sites": {"en": "{user} now reads {sites}", "fr": "{user} lit désormais {sites}"},
    "cli.user_disabled_mark": {"en": " (disabled)", "fr": " (désactivé)"},
    "cli.user_locked_mark": {
        "en": " (locked after wrong passwords until {when} UTC)",
        "fr": " (verrouillé après des mots de passe erronés jusqu'au {when} UTC)",
    },
    # ``users list``'s last column: when the account last signed in (its latest ``sign_in`` audit event).
    "cli.user_last_sign_in": {"en": "last signed in {when} UTC", "fr": "dernière connexion le {when} UTC"},
    "cli.user_never_signed_in": {"en": "never signed in", "fr": "jamais connecté"},
    "cli.user_disabled": {
        "en": "disabled {user}: signed out everywhere",
        "fr": "{user} désactivé : déconnecté partout",
    },
    "cli.user_enabled": {
        "en": "enabled {user}: they sign in afresh (the sessions the disabling ended stay ended)",
        "fr": "{user} réactivé : nouvelle connexion nécessaire (les sessions closes par la désactivation le restent)",
    },
    "cli.user_lock_lifted": {
        "en": "; the lockout after wrong passwords it was under is lifted",
        "fr": " ; le verrouillage qui le bloquait après des mots de passe erronés est levé",
    },
    "cli.user_unlocked": {
        "en": "unlocked {user}: they can sign in now, and wrong passwords are counted from none again",
        "fr": "{user} déverrouillé : connexion possible dès maintenant, le décompte des mots de passe erronés "
        "repart de zéro",
    },
    # What an account change or a device enrolment is refused for (``accounts.AccountError``,
    # ``devices.DeviceError``); a name, a role or an id is quoted as typed.
    "account.refused.bad_name": {
        "en": "user name {user}: letters, digits, '.', '_' or '-' (at most 64)",
        "fr": "nom d'utilisateur {user} : lettres, chiffres, « . », « _ » ou « - » (64 au plus)",
    },
    "account.refused.bad_role": {
        "en": "role {role}: expected one of {roles}",
        "fr": "rôle {role} : l'un de {roles} attendu",
    },
    "account.refused.short_password": {
        "en": "the password must have at least {count} characters",
        "fr": "le mot de passe doit compter au moins {count} caractères",
    },
    "account.refused.exists": {"en": "user {user} exists already", "fr": "l'utilisateur {user} existe déjà"},
    "account.refused.bad_site": {
        "en": "site {site}: letters, digits, '.', '_' or '-' (at most 64)",
        "fr": "site {site} : lettres, chiffres, « . », « _ » ou « - » (64 au plus)",
    },
    "account.refused.admin_sites": {
        "en": "an admin account reads every site: give sites to reviewer or coordinator accounts",
        "fr": "un compte administrateur lit tous les sites : donnez des sites aux comptes relecteur ou coordinateur",
    },
    "account.refused.unknown": {"en": "no user {user}", "fr": "aucun utilisateur {user}"},
    "account.refused.not_disabled": {
        "en": "user {user} is not disabled: nothing to enable",
        "fr": "l'utilisateur {user} n'est pas désactivé : rien à réactiver",
    },
    "account.refused.disabled_already": {
        "en": "user {user} is disabled already: nothing to disable",
        "fr": "l'utilisateur {user} est déjà désactivé : rien à désactiver",
    },
    "account.refused.not_locked": {
        "en": "user {user} is not locked out: nothing to unlock",
        "fr": "l'utilisateur {user} n'est pas verrouillé : rien à déverrouiller",
    },
    "account.refused.unlock_disabled": {
        "en": "user {user} is disabled: users enable lets it sign in again, lifting any lockout",
        "fr": "l'utilisateur {user} est désactivé : users enable le réactive et lève tout verrouillage",
    },
    "account.refused.passwords_differ": {
        "en": "the two passwords differ",
        "fr": "les deux mots de passe diffèrent",
    },
    "device.refused.bad_device": {
        "en": "device id {id}: expected letters, digits, '.', '_' or '-' (at most 64)",
        "fr": "identifiant d'appareil {id} : lettres, chiffres, « . », « _ » ou « - » attendus (64 au plus)",
    },
    "device.refused.bad_site": {
        "en": "site id {id}: expected letters, digits, '.', '_' or '-' (at most 64)",
        "fr": "identifiant de site {id} : lettres, chiffres, « . », « _ » ou « - » attendus (64 au plus)",
    },
    "device.refused.enrolled": {
        "en": "device {device} is already enrolled (retired devices stay on record)",
        "fr": "l'appareil {device} est déjà enrôlé (les appareils retirés restent enregistrés)",
    },
    "device.refused.not_active": {
        "en": "device {device} is not an enrolled, active device",
        "fr": "l'appareil {device} n'est pas un appareil enrôlé et actif",
    },
}
# keygen's refusals (``pem_keys.KeyRefusal``), their English the module's own; a reason the file
# system gives stays its own words.
KEYGEN_FRENCH = {
    "private_taken": "{path} : une clé s'y trouve déjà ; elle n'est jamais écrasée",
    "public_taken": "{path} : un fichier s'y trouve déjà ; une clé publique n'est jamais écrite par-dessus",
    "same_file": "{path} : la clé publique va dans un fichier à elle, pas dans celui de la clé privée",
    "private_unwritable": "{path} : la clé privée ne peut pas être écrite ({problem})",
    "public_unwritable": "{path} : la clé publique ne peut pas être écrite ({problem})",
}
CATALOGUE.update(
    {f"keygen.refused.{key}": {"en": english, "fr": KEYGEN_FRENCH[key]} for key, english in WRITE_REFUSALS.items()}
)
# The quality the worklist lists and filters an eye not photographed by (``classify.quality_verdict``),
# named as its quality reason is: one sentence, not a copy of it.
CATALOGUE["quality.not_photographed"] = CATALOGUE["defect.not_photographed"]


def plural(key: str, count: int, language: str) -> str:
    """``key.one`` or ``key.other`` as ``count`` takes it in ``language`` (the device's rule:
    ``firmware_app.messages.plural_key``)."""
    return plural_key(key, count, language)


def say(key: str, language: str, **values: Any) -> str:
    """The station's sentence ``key`` in ``language`` (English for a language it does not hold), set
    by the language's typography, then filled with ``values``: typography never touches a value (a
    device id, a comment) typed elsewhere."""
    texts = CATALOGUE[key]
    text = typeset(texts[language], language) if language in texts else texts["en"]
    return text.format(**values) if values else text


def code(kind: str, value: str | None, language: str) -> str:
    """A code stored and exported as it is (``triage``/``refer``) in the reader's words; a code the
    catalogue does not know (a newer device's) shows as the code, not as nothing."""
    if not value:
        return ""
    key = f"{kind}.{value}"
    return say(key, language) if key in CATALOGUE else value.replace("_", " ")


def moment(value: datetime, language: str, with_time: bool = True) -> str:
    """A UTC time with its month in words ("3 December 2026, 14:05", "3 décembre 2026 à 14:05"), as the
    device writes dates; the pages say it is UTC."""
    return date_in_words(value, language, with_time)


def not_heard(heard: Heard, language: str) -> str:
    """Since when no ingester is heard from, or that none ever ran here (``heartbeats``)."""
    if heard.last_at is None:
        return say("ingester.never", language)
    return say("ingester.not_heard", language, since=moment(heard.last_at, language))


def unsent_why(reason: str, detail: str | None, language: str, heard: Heard | None = None) -> str:
    """Why an erasure notice is not sent (``erased_notices.not_sent``, or "unknown"), the broker's
    or the library's own ``detail`` as they gave it: the dashboard, ``devices list`` and the log say it alike.
    An "unknown" one says what ``heard`` says of the ingester: not running, running but not connected to the
    broker (the plain reason), or running and connected but unable to record why."""
    if reason == "unknown":
        heard = heard or Heard()
        if heard.connected:
            return say("unsent_notice.why.unknown.running", language)
        if heard.running:
            return say("unsent_notice.why.unknown.not_connected", language)
        return say("unsent_notice.why.unknown.stopped", language, heard=not_heard(heard, language))
    return say(f"unsent_notice.why.{reason}", language, most=MAX_NOTICE_IDS, detail=detail)


def refusal(error: Refused | KeyRefusal, language: str) -> str:
    """Why a request was refused (``refused.Refused``: an export, an account change, an enrolment; a
    key pair not written, ``pem_keys.KeyRefusal``), in ``language``: the export page and the command
    line say it alike."""
    return say(error.sentence_key, language, **error.values)
