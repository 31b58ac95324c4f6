"""Every sentence a nurse reads, in each supported language, from one catalogue.

Keys are stable identifiers (also used in JSON output and on the wire); the text is looked up at
the last moment in the language the device is configured for.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Callable, Mapping

# A space before these in French text (``message``).
_FRENCH_PUNCTUATION = re.compile(r" ([:;?!])")
# French quotation marks hold their words with spaces that never break: «\u00a0Vider\u00a0».
_FRENCH_OPENING, _FRENCH_CLOSING = re.compile(r"«\s*"), re.compile(r"\s*»")
# A value of a sentence written as each language writes it (a size: "4.5" GB, "4,5" Go).
Worded = Callable[[str], str]

CATALOGUE: dict[str, dict[str, str]] = {
    # Fixed on the wire (edgescreen_wire/result.py checks it word for word): the screens say ``result.disclaimer``.
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
        "fr": "Pas d'orientation pour l'instant ; nouveau dépistage à l'intervalle habituel.",
    },
    "triage.ungradable": {
        "en": "Could not be graded: retake the photo, or refer for a manual examination.",
        "fr": "Ininterprétable : reprenez la photo, ou adressez pour un examen manuel.",
    },
    # Quality gate: one instruction per defect ("quality.<reason>"); a modality may word one its own
    # way ("quality.<modality>.<reason>"). See firmware_app/quality/guidance.py.
    "quality.verdict.good": {"en": "Image quality: good.", "fr": "Qualité d'image : bonne."},
    "quality.verdict.usable": {
        "en": "Image quality: usable; a retake could be better.",
        "fr": "Qualité d'image : utilisable ; une nouvelle prise pourrait être meilleure.",
    },
    "quality.verdict.reject": {
        "en": "Image quality: not gradable; retake the photo.",
        "fr": "Qualité d'image : ininterprétable ; reprenez la photo.",
    },
    "quality.burst.none_passed": {
        "en": "No photo in the series was good enough. Most common problem:",
        "fr": "Aucune photo de la série n'est assez bonne. Problème le plus fréquent :",
    },
    "quality.greyscale": {
        "en": "Colour photo needed: switch the camera to colour mode.",
        "fr": "Photo en couleur nécessaire : passez la caméra en mode couleur.",
    },
    "quality.image_too_small": {
        "en": "Image too small: take the photo at the camera's full resolution.",
        "fr": "Image trop petite : prenez la photo à la pleine résolution de la caméra.",
    },
    "quality.red_free": {
        "en": "No red in the photo: remove the red-free (green) filter and take a colour photo.",
        "fr": "Pas de rouge dans la photo : retirez le filtre anérythre (vert) et prenez une photo en couleur.",
    },
    "quality.too_dark": {
        "en": "Too dark: check the light, then retake.",
        "fr": "Trop sombre : vérifiez l'éclairage, puis reprenez.",
    },
    # A dark fundus comes of a small pupil or a camera off its axis more than of the camera's light,
    # which the nurse does not set (``[camera]``): "check the light" had a room lit up, and a pupil
    # narrowed by it, for a darker retina still. The field too small says the same (dim the room).
    "quality.fundus.too_dark": {
        "en": "Too dark: dim the room so the pupil widens, centre the camera on the pupil, then retake.",
        "fr": "Trop sombre : baissez la lumière pour élargir la pupille, centrez la caméra sur la pupille, puis "
        "reprenez.",
    },
    # The dermoscopy gate judges light by the skin's paler part, which the darkest skin keeps low
    # however well lit (config.py, min_highlights: no source here holds such photos; rendered skin
    # of ITA -41 is refused): the nurse is not sent back to the light for ever.
    "quality.dermoscopy.too_dark": {
        "en": "Too dark: check the light, then retake. Very dark skin that stays so: record as not gradable.",
        "fr": "Trop sombre : vérifiez l'éclairage, puis reprenez. Peau très foncée qui le reste : "
        "enregistrez comme ininterprétable.",
    },
    "quality.too_bright": {
        "en": "Too bright: lower the light or the exposure, then retake.",
        "fr": "Trop clair : baissez l'éclairage ou l'exposition, puis reprenez.",
    },
    "quality.blurred": {
        "en": "Hold still, the image is blurred: refocus and retake.",
        "fr": "Ne bougez pas, l'image est floue : refaites la mise au point et reprenez.",
    },
    "quality.uneven_illumination": {
        "en": "Uneven light: centre the camera and hold it straight.",
        "fr": "Éclairage inégal : centrez la caméra et tenez-la bien droite.",
    },
    "quality.glare": {
        "en": "Reflections on the image: change the camera's angle slightly, then retake.",
        "fr": "Reflets sur l'image : changez légèrement l'angle de la caméra, puis reprenez.",
    },
    "quality.fundus.glare": {
        "en": "Reflections on the retina: move the camera slightly closer or further, then retake.",
        "fr": "Reflets sur la rétine : avancez ou reculez légèrement la caméra, puis reprenez.",
    },
    "quality.dermoscopy.glare": {
        "en": "Reflections: add immersion fluid or press the dermatoscope gently on the skin.",
        "fr": "Reflets : ajoutez du liquide d'immersion ou appuyez doucement le dermatoscope sur la peau.",
    },
    "quality.dermoscopy.not_found_whole": {
        "en": "Larger than the view, or faint? No retake fixes it: record as not gradable.",
        "fr": "Plus grande que le champ, ou pâle ? Enregistrez-la comme ininterprétable.",
    },
    "quality.noisy": {
        "en": "Grainy image: add light rather than camera gain, then retake.",
        "fr": "Image granuleuse : ajoutez de la lumière plutôt que du gain, puis reprenez.",
    },
    "quality.compressed": {
        "en": "Image over-compressed: set the camera to high quality, then retake.",
        "fr": "Image trop compressée : réglez la caméra en haute qualité, puis reprenez.",
    },
    "quality.no_field_of_view": {
        "en": "No retina visible: align the camera with the pupil and retake.",
        "fr": "Aucune rétine visible : alignez la caméra sur la pupille et reprenez.",
    },
    "quality.field_cut": {
        "en": "Part of the retina is cut off: centre the camera on the pupil.",
        "fr": "Une partie de la rétine est coupée : centrez la caméra sur la pupille.",
    },
    "quality.field_too_small": {
        "en": "Only the middle of the retina is lit: dim the room to widen the pupil, then retake.",
        "fr": "Seul le centre de la rétine est éclairé : baissez la lumière pour élargir la pupille, puis reprenez.",
    },
    "quality.edge_artefact": {
        "en": "Eyelashes or eyelid in the way: ask the patient to open wide, hold the lid if needed.",
        "fr": "Cils ou paupière gênants : demandez au patient d'ouvrir grand, tenez la paupière si besoin.",
    },
    "quality.low_contrast": {
        "en": "Hazy image: clean the lens and retake; if it stays hazy, refer for an examination.",
        "fr": "Image voilée : nettoyez l'objectif et reprenez ; si elle reste voilée, adressez pour un examen.",
    },
    "quality.no_optic_disc": {
        "en": "Optic disc not found: ask the patient to look at the fixation target.",
        "fr": "Papille introuvable : demandez au patient de regarder la cible de fixation.",
    },
    "quality.macula_outside": {
        "en": "Macula out of view: ask the patient to look at the fixation target.",
        "fr": "Macula hors du champ : demandez au patient de regarder la cible de fixation.",
    },
    "quality.no_lesion": {
        "en": "No lesion found: centre the lesion in the view.",
        "fr": "Aucune lésion trouvée : centrez la lésion dans le champ.",
    },
    "quality.lesion_too_small": {
        "en": "Lesion too small: use a higher magnification; if it stays small, record it as not gradable.",
        "fr": "Lésion trop petite : grossissez davantage ; sinon, enregistrez-la comme ininterprétable.",
    },
    "quality.lesion_cut": {
        "en": "The lesion runs out of the picture: slide the dermatoscope towards it.",
        "fr": "La lésion sort de l'image : glissez le dermatoscope vers elle.",
    },
    "quality.lesion_off_centre": {
        "en": "The lesion is against the edge: centre it.",
        "fr": "La lésion touche le bord : centrez-la.",
    },
    "quality.hair": {
        "en": "Hair covers the lesion: part or shave it, then retake.",
        "fr": "Des poils couvrent la lésion : écartez-les ou rasez-les, puis reprenez.",
    },
    "quality.bubbles": {
        "en": "Air bubbles: reapply the immersion fluid and press gently.",
        "fr": "Bulles d'air : remettez du liquide d'immersion et appuyez doucement.",
    },
    # A retina screened on a visit set to skin (firmware_app/quality/modality.py): no retake with
    # this camera helps; the visit's examination or the camera is wrong.
    "quality.dermoscopy.wrong_modality": {
        "en": "This is a retina photo, not skin: check the visit is a skin visit and use the dermatoscope.",
        "fr": "C'est une photo de rétine, pas de peau : vérifiez que la visite est pour la peau "
        "et utilisez le dermatoscope.",
    },
    # Dermoscopy measurements beside the triage (see firmware_app/lesion_measurements.py).
    "lesion.diameter": {"en": "Lesion diameter {diameter} mm.", "fr": "Diamètre de la lésion : {diameter} mm."},
    "lesion.diameter_at_least": {
        "en": "Lesion diameter at least {diameter} mm: it runs to the edge of the photo.",
        "fr": "Diamètre de la lésion d'au moins {diameter} mm : elle atteint le bord de la photo.",
    },
    "lesion.over_6mm": {
        "en": "Larger than 6 mm (the D of ABCDE).",
        "fr": "Plus de 6 mm (le D de ABCDE).",
    },
    "lesion.no_scale": {
        "en": "Lesion diameter unknown: this device has no scale calibration.",
        "fr": "Diamètre de la lésion inconnu : cet appareil n'a pas d'étalonnage d'échelle.",
    },
    "lesion.not_found": {
        "en": "Lesion diameter unknown: the lesion's border was not found.",
        "fr": "Diamètre de la lésion inconnu : le bord de la lésion n'a pas été trouvé.",
    },
    # The nurse's result screen names the category only: the angle means nothing to her, and what the
    # line is for (a model less reliable on a skin tone it was not trained on) is its next sentence.
    "skin_tone.category": {
        "en": "Skin tone: {category}.",
        "fr": "Teint de la peau : {category}.",
    },
    # The command line's result (``report.result_line``): the angle measured, for the technician and the record.
    "skin_tone.category_ita": {
        "en": "Skin tone: {category} (ITA {ita}°).",
        "fr": "Teint de la peau : {category} (ITA {ita}°).",
    },
    # The Del Bino categories of the ITA (firmware_app/inference/skin_tone.py), as people say them.
    "skin_tone.name.very_light": {"en": "very light", "fr": "très clair"},
    "skin_tone.name.light": {"en": "light", "fr": "clair"},
    "skin_tone.name.intermediate": {"en": "intermediate", "fr": "intermédiaire"},
    "skin_tone.name.tan": {"en": "tan", "fr": "mat"},
    "skin_tone.name.brown": {"en": "brown", "fr": "brun"},
    "skin_tone.name.dark": {"en": "dark", "fr": "foncé"},
    "skin_tone.inside": {
        "en": "The model was trained on this skin tone.",
        "fr": "Le modèle a été entraîné sur ce teint.",
    },
    "skin_tone.outside": {
        "en": "The model was not trained on this skin tone: its triage is less reliable.",
        "fr": "Le modèle n'a pas été entraîné sur ce teint : son tri est moins fiable.",
    },
    "skin_tone.unknown": {
        "en": "The model's card does not say which skin tones it was trained on.",
        "fr": "La fiche du modèle ne dit pas sur quels teints il a été entraîné.",
    },
    "skin_tone.not_measured.colour_cast": {
        "en": "Skin tone not measured: the photo's colours are off (a colour cast): "
        "ask the technician to calibrate the camera's colour.",
        "fr": "Teint non mesuré : les couleurs de la photo sont faussées (dominante de couleur) : "
        "demandez au technicien d'étalonner les couleurs de la caméra.",
    },
    "skin_tone.not_measured.too_little_skin": {
        "en": "Skin tone not measured: too little skin around the lesion.",
        "fr": "Teint non mesuré : trop peu de peau autour de la lésion.",
    },
    # The live capture flow (see firmware_app/capture_flow.py).
    "capture.aim": {
        "en": "Aim the camera; press Enter to take the photos.",
        "fr": "Visez avec la caméra ; appuyez sur Entrée pour prendre les photos.",
    },
    "capture.taking": {"en": "Taking the photos...", "fr": "Prise des photos..."},
    "capture.timed_out": {
        "en": "No photo was taken within {seconds} s: capture cancelled.",
        "fr": "Aucune photo prise en {seconds} s : capture annulée.",
    },
    "capture.camera_failed": {
        "en": "The camera is not working: {error}. Call the technician.",
        "fr": "La caméra ne fonctionne pas : {error}. Appelez le technicien.",
    },
    # ``edgescreen audit verify`` (records_cli.py) and the review station's: what the chain proves; {problem}
    # is what broke it (``audit.problem.*``, which event, which row). An empty log, and a first event, have no
    # event before them to be chained to (``ChainCheck.sentences``).
    "audit.intact_empty": {
        "en": "audit log intact: no event recorded yet",
        "fr": "journal d'audit intact : aucun événement enregistré pour l'instant",
    },
    "audit.intact.one": {
        "en": "audit log intact: {count} event, the first of the chain",
        "fr": "journal d'audit intact : {count} événement, le premier de la chaîne",
    },
    "audit.intact.other": {
        "en": "audit log intact: {count} events, each chained to the one before",
        "fr": "journal d'audit intact : {count} événements, chacun chaîné au précédent",
    },
    "audit.broken": {
        "en": "audit log BROKEN at event {event}: {problem}",
        "fr": "journal d'audit ROMPU à l'événement {event} : {problem}",
    },
    "audit.result_altered.one": {
        "en": "the hash chain of {count} event holds; result {result} cannot be trusted",
        "fr": "la chaîne de hachage de {count} événement tient ; le résultat {result} n'est pas fiable",
    },
    "audit.result_altered.other": {
        "en": "the hash chain of {count} events holds; result {result} cannot be trusted",
        "fr": "la chaîne de hachage des {count} événements tient ; le résultat {result} n'est pas fiable",
    },
    # A result row SQLite cannot read: which result it holds cannot be told (``audit.problem.row_unreadable``).
    "audit.row_unreadable_trusted.one": {
        "en": "the hash chain of {count} event holds; the result row that cannot be read cannot be trusted",
        "fr": "la chaîne de hachage de {count} événement tient ; la ligne de résultat illisible n'est pas fiable",
    },
    "audit.row_unreadable_trusted.other": {
        "en": "the hash chain of {count} events holds; the result row that cannot be read cannot be trusted",
        "fr": "la chaîne de hachage des {count} événements tient ; la ligne de résultat illisible n'est pas fiable",
    },
    # ``count``: the last event that verifies; event 2 broken leaves event 1 alone, never "events 1 to 1".
    "audit.trusted_until.one": {
        "en": "event {count} verifies; nothing from event {event} on can be trusted",
        "fr": "l'événement {count} est vérifié ; rien n'est fiable à partir de l'événement {event}",
    },
    "audit.trusted_until.other": {
        "en": "events 1 to {count} verify; nothing from event {event} on can be trusted",
        "fr": "les événements 1 à {count} sont vérifiés ; rien n'est fiable à partir de l'événement {event}",
    },
    # Event 1 itself broken: no "events 1 to 0 verify".
    "audit.trusted_none": {
        "en": "no event verifies; nothing in the audit log can be trusted",
        "fr": "aucun événement n'est vérifié ; rien dans le journal d'audit n'est fiable",
    },
    # What broke the chain (``records/audit.py``'s ``broken_chain``): the device's and the review station's
    # ``audit verify`` say it in their language, a backup's refusal in English (``ChainCheck.problem``).
    "audit.problem.not_text": {
        "en": "event {event} holds bytes that are not text: altered or damaged",
        "fr": "l'événement {event} contient des octets qui ne sont pas du texte : modifié ou endommagé",
    },
    "audit.problem.missing": {
        "en": "event {event} is missing (next is {next})",
        "fr": "l'événement {event} manque (le suivant est le {next})",
    },
    "audit.problem.out_of_order": {
        "en": "event {event} does not follow event {previous}: deleted or reordered",
        "fr": "l'événement {event} ne suit pas l'événement {previous} : supprimé ou déplacé",
    },
    "audit.problem.altered": {
        "en": "event {event} ({kind}) was altered: its hash does not match",
        "fr": "l'événement {event} ({kind}) a été modifié : son empreinte ne correspond pas",
    },
    "audit.problem.cut_off": {
        "en": "the log ends at event {end}, but event {last} was its last",
        "fr": "le journal s'arrête à l'événement {end}, mais son dernier était l'événement {last}",
    },
    "audit.problem.changed_since_verified": {
        "en": "event {event} was verified intact and has since been altered, deleted or cut off",
        "fr": "l'événement {event} a été vérifié intact, et depuis modifié, supprimé ou coupé",
    },
    # A result, its queued payload or its specialist's verdict against its own event (``records/integrity.py``):
    # the chain holds, that result cannot be trusted. Event kinds (screening, review) are named as the log holds them.
    "audit.problem.row_altered": {
        "en": "result {result}: the result row was altered after it was recorded",
        "fr": "résultat {result} : sa ligne de résultat a été modifiée après son enregistrement",
    },
    "audit.problem.payload_altered": {
        "en": "result {result}: its queued payload was altered after it was recorded",
        "fr": "résultat {result} : son message dans la file d'envoi a été modifié après son enregistrement",
    },
    "audit.problem.result_unrecorded": {
        "en": "result {result}: it has no screening event: it was not recorded by EdgeScreen",
        "fr": "résultat {result} : il n'a pas d'événement screening : il n'a pas été enregistré par EdgeScreen",
    },
    "audit.problem.verdict_deleted": {
        "en": "result {result}: its specialist's verdict (review {review}) was deleted",
        "fr": "résultat {result} : l'avis {review} de son spécialiste a été supprimé",
    },
    "audit.problem.verdict_altered": {
        "en": "result {result}: its specialist's verdict (review {review}) was altered after it arrived",
        "fr": "résultat {result} : l'avis {review} de son spécialiste a été modifié après son arrivée",
    },
    "audit.problem.verdict_marked_seen": {
        "en": "result {result}: its specialist's verdict (review {review}) was marked seen, but its record was not "
        "opened after it arrived",
        "fr": "résultat {result} : l'avis {review} de son spécialiste a été marqué comme vu, mais son dossier "
        "n'a pas été ouvert après son arrivée",
    },
    "audit.problem.verdict_unreceived": {
        "en": "result {result}: its specialist's verdict (review {review}) has no review event: it was not received "
        "by EdgeScreen",
        "fr": "résultat {result} : l'avis {review} de son spécialiste n'a pas d'événement review : il n'a pas "
        "été reçu par EdgeScreen",
    },
    # {error}: SQLite's own words, which name the column (English on every device).
    "audit.problem.row_unreadable": {
        "en": "a result row cannot be read: {error}",
        "fr": "une ligne de résultat ne peut pas être lue : {error}",
    },
    # The review station's own check (``review_station/audit.py``): the time it compares, outside the hashes.
    "audit.problem.mistimed": {
        "en": "event {event} ({kind}) was altered: at_utc {stored} is not its time {at}",
        "fr": "l'événement {event} ({kind}) a été modifié : son at_utc {stored} n'est pas son heure {at}",
    },
    # ``edgescreen models`` (cli.py): each installed model, verified or not (the refusal's own English after it).
    "models.none": {
        "en": "no models (no */{card}) under {folder}",
        "fr": "aucun modèle (aucun */{card}) dans {folder}",
    },
    "models.not_verified": {"en": "NOT VERIFIED", "fr": "NON VÉRIFIÉ"},
    # A configured modality whose folder holds no model (cli.py, _missing_line): {modality} its code (the
    # listing's column), {name} its word on the nurse's screens; {remedy}: doctor's sentence for it
    # (``health.models.missing``).
    "models.missing": {
        "en": "{modality}  NOT INSTALLED  screening refused ({name}): {folder} holds no model. {remedy}",
        "fr": "{modality}  NON INSTALLÉ  dépistage refusé ({name}) : {folder} ne contient aucun modèle. {remedy}",
    },
    # A configured modality whose folder is an install's link to a store copy that is gone (cli.py,
    # _missing_line): {copy} the copy it names; {remedy}: doctor's sentence for it (``health.models.gone``).
    "models.gone": {
        "en": "{modality}  COPY GONE  screening refused ({name}): {folder} names the installed copy {copy}, which "
        "is gone. {remedy}",
        "fr": "{modality}  COPIE DISPARUE  dépistage refusé ({name}) : {folder} désigne la copie installée {copy}, "
        "qui a disparu. {remedy}",
    },
    "models.listed": {
        "en": "{model} {version}  verified, {signed} ({runtime})  {modality}  {auc}  {point}: sensitivity "
        "{sensitivity}%, specificity {specificity}%",
        "fr": "{model} {version}  vérifié, {signed} ({runtime})  {modality}  {auc}  {point} : sensibilité "
        "{sensitivity} %, spécificité {specificity} %",
    },
    "models.test_auc": {"en": "test AUC {auc} [{low}, {high}]", "fr": "AUC de test {auc} [{low} ; {high}]"},
    "models.no_auc": {"en": "no AUC", "fr": "pas d'AUC"},
    # ``edgescreen models verify|install|rollback`` on the device (models_cli.py); their refusals stay in the
    # tools' own words (own_words.py), which name the file at fault, but those about the device's own models
    # (a downgrade, a previous copy gone, a full disk), in its language, below.
    "models.verified": {"en": "verified {bundle}: {model} {version}", "fr": "vérifié {bundle} : {model} {version}"},
    "models.switched.install": {
        "en": "install: {model} {version} is active (was {was})",
        "fr": "install : {model} {version} est actif (avant : {was})",
    },
    "models.switched.rollback": {
        "en": "rollback: {model} {version} is active (was {was})",
        "fr": "rollback : {model} {version} est actif (avant : {was})",
    },
    # The active copy of the bundle installed failed its check (a file changed after its install): {reason},
    # the check's own English words, name the file; {kept}, where the damaged copy was set aside.
    "models.switched.repair": {
        "en": "repair: {model} {version} is active again, a verified copy in place of the installed one, which "
        "failed its check ({reason}); the damaged copy is kept for inspection in {kept}",
        "fr": "réparation : {model} {version} est de nouveau actif, une copie vérifiée à la place de celle "
        "installée, qui échouait à sa vérification ({reason}) ; la copie endommagée est conservée pour examen "
        "dans {kept}",
    },
    "models.no_previous": {"en": "none", "fr": "aucun"},
    # ``models install`` of a version older than the active one, without --allow-downgrade (bundles/install.py,
    # Downgrade); the same with the active copy deleted whole, {active} then the version its link's name records.
    "models.downgrade": {
        "en": "{bundle}: {model} {version} is older than the active {active}; a downgrade needs --allow-downgrade "
        "(or use `edgescreen models rollback`)",
        "fr": "{bundle} : {model} {version} est plus ancien que la version active {active} ; revenir à une version "
        "antérieure demande --allow-downgrade (ou utilisez `edgescreen models rollback`)",
    },
    "models.downgrade_gone": {
        "en": "{bundle}: {model} {version} is older than {active}, the version last active, whose installed copy "
        "{copy} is gone; a downgrade needs --allow-downgrade",
        "fr": "{bundle} : {model} {version} est plus ancien que {active}, la dernière version active, dont la "
        "copie installée {copy} a disparu ; revenir à une version antérieure demande --allow-downgrade",
    },
    # ``models rollback`` with no previous bundle kept, or both links naming one copy (bundles/install.py,
    # NoPreviousBundle); {folder}: the models directory.
    "models.no_previous_bundle": {
        "en": "{folder}: {model} has no previous installed bundle to roll back to",
        "fr": "{folder} : {model} n'a pas de paquet installé précédent vers lequel revenir",
    },
    # ``models rollback`` whose previous link names a store copy deleted whole (bundles/install.py,
    # PreviousCopyGone), as ``health.models.gone`` says of the active one: {copy}, the copy it names.
    "models.previous_gone": {
        "en": "{model}: the previous installed copy {copy} is gone, so there is nothing to roll back to; the "
        "active model is unchanged. Install the signed bundle of the version wanted (edgescreen models install)",
        "fr": "{model} : la copie installée précédente {copy} a disparu, il n'y a donc rien vers quoi revenir ; "
        "le modèle actif n'a pas changé. Installez le paquet signé de la version voulue (edgescreen models "
        "install)",
    },
    # ``models install`` refused for the models' own disk (bundles/install.py, NoRoomForBundle): said in the
    # device's language, as the other tools' refusals for the device's own drive (own_words.py). {needed} in MB.
    "models.no_room": {
        "en": "{bundle}: the disk is full, {needed} MB needed on {folder}: free space there, then install again; "
        "the active model is unchanged",
        "fr": "{bundle} : le disque est plein, {needed} Mo nécessaires sur {folder} : libérez de la place, puis "
        "installez à nouveau ; le modèle actif n'a pas changé",
    },
    # ``models rollback`` refused for the same disk, with no room for the two links it makes (bundles/install.py,
    # NoRoomToRollBack): the previous bundle is already there, so no MB are named.
    "models.no_room_rollback": {
        "en": "{model}: the disk is full, no room on {folder} to switch back to the previous bundle: free space "
        "there, then roll back again; the active model is unchanged",
        "fr": "{model} : le disque est plein, pas de place sur {folder} pour revenir au paquet précédent : libérez "
        "de la place, puis recommencez le rollback ; le modèle actif n'a pas changé",
    },
    # ``models install``, ``rollback`` or ``--clean-damaged`` on a models folder this user may not write, or on a
    # read-only file system (bundles/install.py, ModelsNotWritable); {reason}: the system's (``system_reason``).
    "models.not_writable": {
        "en": "{folder}: the models folder cannot be written ({reason}); nothing was changed. Run the command as "
        "the device's user (sudo -u edgescreen /opt/edgescreen/venv/bin/edgescreen models ...), and check that "
        "the card is not read-only",
        "fr": "{folder} : le dossier des modèles ne peut pas être modifié ({reason}) ; rien n'a changé. Lancez la "
        "commande en tant qu'utilisateur de l'appareil (sudo -u edgescreen /opt/edgescreen/venv/bin/edgescreen "
        "models ...), et vérifiez que la carte n'est pas en lecture seule",
    },
    # ``models install`` whose copy onto the models' disk failed otherwise (bundles/install.py, BundleNotCopied):
    # {file}, the first file it failed on; {reason}, the system's own English words for why.
    "models.not_copied": {
        "en": "{file}: cannot be copied into {folder} ({reason}); nothing was installed, the active model is unchanged",
        "fr": "{file} : ne peut pas être copié dans {folder} ({reason}) ; rien n'a été installé, le modèle actif "
        "n'a pas changé",
    },
    # A damaged copy a repair set aside (bundles/install.py, damaged_copies), listed by ``edgescreen models``
    # after the models: {size} in whole MB, rounded up; kept until the technician removes it.
    "models.damaged_kept": {
        "en": "{path}  DAMAGED COPY  {size} MB, kept for inspection by a repair; once inspected, remove the "
        "damaged copies: edgescreen models --clean-damaged",
        "fr": "{path}  COPIE ENDOMMAGÉE  {size} Mo, conservée pour examen par une réparation ; une fois "
        "examinée, supprimez les copies endommagées : edgescreen models --clean-damaged",
    },
    # ``edgescreen models --clean-damaged`` (models_cli.py, clean_damaged): each copy removed, {size} in MB
    # freed; one kept because {link}, a link of the models directory, names it; none to remove.
    "models.damaged_removed": {
        "en": "{path}: damaged copy removed, {size} MB freed",
        "fr": "{path} : copie endommagée supprimée, {size} Mo libérés",
    },
    "models.damaged_linked": {
        "en": "{path}: damaged copy not removed, the link {link} names it: point that link at another copy first",
        "fr": "{path} : copie endommagée non supprimée, le lien {link} la désigne : faites d'abord pointer ce "
        "lien vers une autre copie",
    },
    "models.no_damaged": {
        "en": "no damaged copy to remove under {folder}",
        "fr": "aucune copie endommagée à supprimer dans {folder}",
    },
    "models.already_active": {
        "en": "{bundle}: already the active model; nothing changed",
        "fr": "{bundle} : c'est déjà le modèle actif ; rien n'a changé",
    },
    # The text line of ``screen``, ``run`` and ``capture`` (report.py, result_line): beside the triage's codes
    # (REFER, the operating point's and the model's names), the figures behind them and the profile applied.
    "result_line.score": {
        "en": "score {score} vs threshold {threshold} ({point}: sensitivity {sensitivity}%, specificity "
        "{specificity}%)",
        "fr": "score {score} pour un seuil de {threshold} ({point} : sensibilité {sensitivity} %, spécificité "
        "{specificity} %)",
    },
    "result_line.model": {"en": "model {model} {version}", "fr": "modèle {model} {version}"},
    "result_line.research_only": {"en": "(research only)", "fr": "(recherche uniquement)"},
    "result_line.calibration": {"en": "calibration {calibration}", "fr": "étalonnage {calibration}"},
    # ``edgescreen backup`` and ``restore`` (device_cli.py): what the copy holds, said to the technician.
    "count.events.one": {"en": "{count} event", "fr": "{count} événement"},
    "count.events.other": {"en": "{count} events", "fr": "{count} événements"},
    "backup.done": {
        "en": "backed up to {path}: {screenings}, {photos}, audit log intact ({events})",
        "fr": "sauvegardé dans {path} : {screenings}, {photos}, journal d'audit intact ({events})",
    },
    "restore.done": {
        "en": "restored {path}: {screenings}, {photos}, audit log intact ({events})",
        "fr": "restauré dans {path} : {screenings}, {photos}, journal d'audit intact ({events})",
    },
    "restore.every_photo_opens": {
        "en": "; every image opens with the key",
        "fr": " ; chaque image s'ouvre avec la clé",
    },
    # What the backup file (plain SQLite) shows without the key: the sealed columns alone need it.
    "backup.key_apart": {
        "en": "the key file {file} is NOT in the backup: keep a copy of it apart (README, Backup and restore). "
        "Without the key the backup still shows the results' ids, times, eyes, outcomes and scores, the "
        "specialists' verdicts, the operators' names and their PINs' hashes (a 4-digit PIN is found from its hash "
        "in minutes); patient references, notes and photos need the key. Keep the backup as locked away as the device.",
        "fr": "le fichier de clé {file} n'est PAS dans la sauvegarde : gardez-en une copie à part "
        "(README, Backup and restore). Sans la clé, la sauvegarde montre encore les identifiants, heures, yeux, "
        "résultats et scores des dépistages, les verdicts des spécialistes, les noms des opérateurs et les "
        "empreintes de leurs codes (un code à 4 chiffres se retrouve à partir de son empreinte en quelques "
        "minutes) ; les références des patients, les notes et les photos exigent la clé. Gardez la sauvegarde "
        "aussi bien enfermée que l'appareil.",
    },
    # Photos a worn card damaged ({found}: where, ``backup.damaged_here`` or ``restore.damaged_there``).
    "backup.photos_damaged.one": {
        "en": "{count} photo does not open with the key: result {results}. {found} Its screening is whole but for "
        "the photo (one shared with the review station is there too).",
        "fr": "{count} photo ne s'ouvre pas avec la clé : résultat {results}. {found} Son dépistage est entier, "
        "sauf la photo (une photo partagée avec le poste de relecture s'y trouve aussi).",
    },
    "backup.photos_damaged.other": {
        "en": "{count} photos do not open with the key: results {results}. {found} Their screenings are whole but "
        "for the photo (one shared with the review station is there too).",
        "fr": "{count} photos ne s'ouvrent pas avec la clé : résultats {results}. {found} Leurs dépistages sont "
        "entiers, sauf la photo (une photo partagée avec le poste de relecture s'y trouve aussi).",
    },
    "backup.damaged_here": {
        "en": "Their bytes changed on this device's card: it is wearing out. Replace it, and restore this backup "
        "onto the new one (README, Backup and restore).",
        "fr": "Leurs octets ont changé sur la carte de cet appareil : elle s'use. Remplacez-la, et restaurez cette "
        "sauvegarde sur la nouvelle (README, Backup and restore).",
    },
    "restore.damaged_there": {
        "en": "Their bytes changed on the card they were backed up from.",
        "fr": "Leurs octets ont changé sur la carte d'où elles ont été sauvegardées.",
    },
    "restore.not_restored.one": {
        "en": "{count} screening this device recorded is not in this backup (its witness counted it; the "
        "restore's audit event says so too).",
        "fr": "{count} dépistage enregistré par cet appareil n'est pas dans cette sauvegarde (son témoin l'a "
        "compté ; l'événement d'audit de la restauration le dit aussi).",
    },
    "restore.not_restored.other": {
        "en": "{count} screenings this device recorded are not in this backup (its witness counted them; the "
        "restore's audit event says so too).",
        "fr": "{count} dépistages enregistrés par cet appareil ne sont pas dans cette sauvegarde (son témoin les "
        "a comptés ; l'événement d'audit de la restauration le dit aussi).",
    },
    # The erasures of this device's ledger (records/erasure_ledger.py) the restored backup still held.
    "restore.erasures_applied.one": {
        "en": "{count} erasure made after this backup was taken was applied again: {screenings} of the backup "
        "erased (the restore's audit event names them by their ids).",
        "fr": "{count} suppression faite après cette sauvegarde a été appliquée à nouveau : {screenings} de la "
        "sauvegarde supprimés (l'événement d'audit de la restauration les nomme par leurs identifiants).",
    },
    "restore.erasures_applied.other": {
        "en": "{count} erasures made after this backup was taken were applied again: {screenings} of the backup "
        "erased (the restore's audit event names them by their ids).",
        "fr": "{count} suppressions faites après cette sauvegarde ont été appliquées à nouveau : {screenings} de "
        "la sauvegarde supprimés (l'événement d'audit de la restauration les nomme par leurs identifiants).",
    },
    "restore.newest": {
        "en": "The backup's newest event is dated {taken_at} by the old device's clock (wrong if that clock was "
        "not set): nothing recorded after it is here. Screenings made since are lost with the old records; "
        "specialists' verdicts the device received since come back once the station's administrator runs "
        "`edgescreen-review devices resend-verdicts {device}`; and a patient erased since is erased again only "
        "if the ledger of erasures beside these records names them (README, Backup and restore): one erased on "
        "another device or card is back, erase them again.",
        "fr": "L'événement le plus récent de la sauvegarde est daté du {taken_at} par l'horloge de l'ancien "
        "appareil (fausse si elle n'était pas réglée) : rien de ce qui a été enregistré après n'est ici. Les "
        "dépistages faits depuis sont perdus avec les anciens dossiers ; les avis des spécialistes reçus depuis "
        "reviennent dès que l'administrateur de la station lance `edgescreen-review devices resend-verdicts "
        "{device}` ; et un patient supprimé depuis n'est supprimé à nouveau que si le registre des suppressions "
        "à côté de ces dossiers le nomme (README, Backup and restore) : un patient supprimé sur un autre appareil "
        "ou une autre carte est de retour, supprimez-le à nouveau.",
    },
    # A device and its site, as a sentence names them (records/identity.py).
    "identity.at": {"en": "{device} at {site}", "fr": "{device} du site {site}"},
    "restore.replacing": {
        "en": "This device now holds the records of {owner}, as its replacement. Before the services start again, "
        'set in {config}: [device] id = "{device}" and site = "{site}"; install a certificate issued for '
        "{device} (CN {device}) as [sync] tls_cert_file and tls_key_file (revoke the old device's if it was lost "
        "or stolen). `edgescreen doctor` is red until then.",
        "fr": "Cet appareil détient maintenant les dossiers de {owner}, qu'il remplace. Avant que les services "
        'redémarrent, réglez dans {config} : [device] id = "{device}" et site = "{site}" ; installez un '
        "certificat émis pour {device} (CN {device}) comme [sync] tls_cert_file et tls_key_file (révoquez celui "
        "de l'ancien appareil s'il a été perdu ou volé). `edgescreen doctor` est rouge jusque-là.",
    },
    # ``edgescreen wipe`` (device_cli.py): what was erased, and what no program can reach (firmware_app/wipe.py).
    "wipe.key_erased": {
        "en": "records key {file}: crypto-erased (overwritten with random bytes, then removed)",
        "fr": "clé des dossiers {file} : effacée cryptographiquement (écrasée d'octets aléatoires, puis supprimée)",
    },
    # Files a wipe could not erase (wipe.NotErased), each with the system's reason (``system_reason``).
    "wipe.not_erased": {"en": "could not erase: {files}", "fr": "impossible d'effacer : {files}"},
    "wipe.not_erased_file": {"en": "{path}: {reason}", "fr": "{path} : {reason}"},
    "wipe.key_not_found": {"en": "records key {file}: not found", "fr": "clé des dossiers {file} : introuvable"},
    "wipe.files.one": {
        "en": "{count} file in {folder} overwritten with zeros and removed",
        "fr": "{count} fichier de {folder} écrasé de zéros et supprimé",
    },
    "wipe.files.other": {
        "en": "{count} files in {folder} overwritten with zeros and removed",
        "fr": "{count} fichiers de {folder} écrasés de zéros et supprimés",
    },
    "wipe.models_kept": {
        "en": "kept the installed models in {folder} (they identify nobody)",
        "fr": "modèles installés conservés dans {folder} (ils n'identifient personne)",
    },
    # The records could not be read (damaged): wiped all the same, and with them all that waited to be sent,
    # uncounted (wipe.Wiped.owed_unread).
    "wipe.owed_unread": {
        "en": "The records could not be read, so whatever still waited to be sent is lost with them, uncounted: "
        "results not yet sent (no clinician will see them), photos not yet uploaded for the specialists, and "
        "patients' erasures still queued for the review station: the station's administrator must erase by hand "
        "what the station holds of the patients erased on this device lately.",
        "fr": "Les dossiers n'ont pas pu être lus, donc tout ce qui attendait encore d'être envoyé est perdu avec "
        "eux, sans pouvoir être compté : les résultats pas encore envoyés (aucun clinicien ne les verra), les "
        "photos pas encore transmises aux spécialistes et les effacements de patients encore en attente pour le "
        "poste de relecture : l'administrateur du poste doit effacer à la main ce que le poste détient des "
        "patients effacés récemment sur cet appareil.",
    },
    # ``wipe --unsent-erasures FILE``: the patients' erasures no network will carry, written out first.
    "wipe.unsent_erasures_written.one": {
        "en": "{count} patient's erasure not sent to the review station written to {file}: the station's "
        "administrator must run its command there (edgescreen-review results erase)",
        "fr": "{count} effacement de patient non envoyé au poste de relecture écrit dans {file} : l'administrateur "
        "du poste doit y lancer sa commande (edgescreen-review results erase)",
    },
    "wipe.unsent_erasures_written.other": {
        "en": "{count} patients' erasures not sent to the review station written to {file}: the station's "
        "administrator must run their commands there (edgescreen-review results erase)",
        "fr": "{count} effacements de patients non envoyés au poste de relecture écrits dans {file} : "
        "l'administrateur du poste doit y lancer leurs commandes (edgescreen-review results erase)",
    },
    # ``wipe --discard-unsent-results``: the results the broker never took, erased with the records.
    "wipe.unsent_results_discarded.one": {
        "en": "{count} result never sent to the review station erased with the records: no clinician will see it",
        "fr": "{count} résultat jamais envoyé au poste de relecture effacé avec les dossiers : aucun clinicien ne "
        "le verra",
    },
    "wipe.unsent_results_discarded.other": {
        "en": "{count} results never sent to the review station erased with the records: no clinician will see them",
        "fr": "{count} résultats jamais envoyés au poste de relecture effacés avec les dossiers : aucun clinicien "
        "ne les verra",
    },
    # ``wipe --discard-unsent-results``: the shared photos the station never had (waiting or refused), erased with
    # the records.
    "wipe.unsent_photos_discarded.one": {
        "en": "{count} photo for the specialists never sent to the review station erased with the records: "
        "no specialist will get it",
        "fr": "{count} photo destinée aux spécialistes jamais envoyée au poste de relecture effacée avec les "
        "dossiers : aucun spécialiste ne la recevra",
    },
    "wipe.unsent_photos_discarded.other": {
        "en": "{count} photos for the specialists never sent to the review station erased with the records: "
        "no specialist will get them",
        "fr": "{count} photos destinées aux spécialistes jamais envoyées au poste de relecture effacées avec les "
        "dossiers : aucun spécialiste ne les recevra",
    },
    # What waits, said in ``refused.wipe_results_and_photos_unsent``.
    "wipe.results_waiting.one": {
        "en": "{count} result is still to be sent to the review station",
        "fr": "{count} résultat reste à envoyer au poste de relecture",
    },
    "wipe.results_waiting.other": {
        "en": "{count} results are still to be sent to the review station",
        "fr": "{count} résultats restent à envoyer au poste de relecture",
    },
    "wipe.photos_waiting.one": {
        "en": "{count} photo for the specialists is still to be uploaded to it",
        "fr": "{count} photo destinée aux spécialistes reste à lui envoyer",
    },
    "wipe.photos_waiting.other": {
        "en": "{count} photos for the specialists are still to be uploaded to it",
        "fr": "{count} photos destinées aux spécialistes restent à lui envoyer",
    },
    # Refused, said in ``refused.wipe_unsent_and_photos_refused``.
    "wipe.photos_refused.one": {
        "en": "{count} photo for the specialists was refused by it and is kept on this device",
        "fr": "{count} photo destinée aux spécialistes a été refusée par lui et reste sur cet appareil",
    },
    "wipe.photos_refused.other": {
        "en": "{count} photos for the specialists were refused by it and are kept on this device",
        "fr": "{count} photos destinées aux spécialistes ont été refusées par lui et restent sur cet appareil",
    },
    "wipe.unsent_erasures_none": {
        "en": "no patient's erasure was waiting to be sent: nothing written to {file}",
        "fr": "aucun effacement de patient n'attendait d'être envoyé : rien n'a été écrit dans {file}",
    },
    # The file's opening lines, in every language (wipe._station_commands): the administrator may not read the device's.
    "wipe.unsent_erasures_file": {
        "en": "Patients' erasures this device could not send to the review station before it was wiped "
        "(edgescreen wipe). The station's administrator runs each command below on the review station.",
        "fr": "Effacements de patients que cet appareil n'a pas pu envoyer au poste de relecture avant d'être "
        "effacé (edgescreen wipe). L'administrateur du poste lance chaque commande ci-dessous sur le poste de "
        "relecture.",
    },
    # The audit log's ``export`` events, read before the wipe: decrypted copies no wipe reaches.
    "wipe.exported.one": {
        "en": "The audit log recorded one export of decrypted photos, on {first}: the wipe does not reach that "
        "copy. Delete it where it was saved (the browser's downloads on the device or a tablet, or the --out "
        "folder of edgescreen records export) before the device leaves.",
        "fr": "Le journal d'audit a enregistré un export de photos déchiffrées, le {first} : l'effacement de "
        "l'appareil n'atteint pas cette copie. Supprimez-la là où elle a été enregistrée (les téléchargements du "
        "navigateur sur l'appareil ou une tablette, ou le dossier --out d'edgescreen records export) avant que "
        "l'appareil ne parte.",
    },
    "wipe.exported.other": {
        "en": "The audit log recorded {count} exports of decrypted photos, from {first} to {last}: the wipe does "
        "not reach those copies. Delete them where they were saved (the browser's downloads on the device or a "
        "tablet, or the --out folders of edgescreen records export) before the device leaves.",
        "fr": "Le journal d'audit a enregistré {count} exports de photos déchiffrées, du {first} au {last} : "
        "l'effacement de l'appareil n'atteint pas ces copies. Supprimez-les là où elles ont été enregistrées (les "
        "téléchargements du navigateur sur l'appareil ou une tablette, ou les dossiers --out d'edgescreen records "
        "export) avant que l'appareil ne parte.",
    },
    "wipe.flash": {
        "en": "Flash storage (an SD card, an SSD) keeps overwritten data in cells it has not reused yet, out of "
        "reach of any program: only full-disk encryption with a key kept off the card, or destroying the card, "
        'guarantees erasure (README, "A lost or stolen device"). Run `sudo fstrim -v /` now, and before the '
        "card leaves the clinic for good, `blkdiscard` it from another machine, or destroy it.",
        "fr": "Une mémoire flash (carte SD, SSD) garde les données écrasées dans des cellules qu'elle n'a pas encore "
        "réutilisées, hors de portée de tout programme : seul le chiffrement du disque entier avec une clé gardée "
        "hors de la carte, ou la destruction de la carte, garantit l'effacement (README, « A lost or stolen "
        "device »). Lancez `sudo fstrim -v /` maintenant et, avant que la carte quitte la clinique pour de bon, "
        "passez-la à `blkdiscard` depuis une autre machine, ou détruisez-la.",
    },
    # ``edgescreen quality fit`` (quality_fit_command.py); why each photo was left out is the log's (English).
    "quality_fit.out_exists": {
        "en": "quality fit: {out} exists; the profile is never written over a file (give a new file, then merge "
        "its lines into the config)",
        "fr": "quality fit : {out} existe ; le profil n'est jamais écrit par-dessus un fichier (donnez un nouveau "
        "fichier, puis reportez ses lignes dans la configuration)",
    },
    "quality_fit.too_few.one": {
        "en": "quality fit needs at least {least} measurable good photos; got {count} ({left_out})",
        "fr": "quality fit demande au moins {least} bonnes photos mesurables ; {count} reçue ({left_out})",
    },
    "quality_fit.too_few.other": {
        "en": "quality fit needs at least {least} measurable good photos; got {count} ({left_out})",
        "fr": "quality fit demande au moins {least} bonnes photos mesurables ; {count} reçues ({left_out})",
    },
    "quality_fit.left_out.one": {"en": "{count} left out", "fr": "{count} écartée"},
    "quality_fit.left_out.other": {"en": "{count} left out", "fr": "{count} écartées"},
    "quality_fit.written": {
        "en": "quality profile for {camera} written to {out}",
        "fr": "profil de qualité de {camera} écrit dans {out}",
    },
    # ``edgescreen erase --patient`` (records_cli.py), for the technician who must check what it names.
    "erase.close.one": {
        "en": "not erased, check: {count} screening under the close reference {reference}; if it is the same "
        "patient, erase it too ({command})",
        "fr": "non supprimé, à vérifier : {count} dépistage sous la référence proche {reference} ; si c'est le même "
        "patient, supprimez-la aussi ({command})",
    },
    "erase.close.other": {
        "en": "not erased, check: {count} screenings under the close reference {reference}; if it is the same "
        "patient, erase it too ({command})",
        "fr": "non supprimés, à vérifier : {count} dépistages sous la référence proche {reference} ; si c'est le "
        "même patient, supprimez-la aussi ({command})",
    },
    "erase.unreadable.one": {
        "en": "not checked: {count} screening whose patient reference does not open (its bytes changed on the "
        "card: it is wearing out), so whether it is this patient's cannot be told: result {results}. Replace the "
        "card (README, Backup and restore)",
        "fr": "non vérifié : {count} dépistage dont la référence patient ne s'ouvre pas (ses octets ont changé sur "
        "la carte : elle s'use), on ne peut donc pas dire s'il est de ce patient : résultat {results}. Remplacez la "
        "carte (README, Backup and restore)",
    },
    "erase.unreadable.other": {
        "en": "not checked: {count} screenings whose patient references do not open (their bytes changed on the "
        "card: it is wearing out), so whether they are this patient's cannot be told: results {results}. Replace "
        "the card (README, Backup and restore)",
        "fr": "non vérifiés : {count} dépistages dont les références patient ne s'ouvrent pas (leurs octets ont "
        "changé sur la carte : elle s'use), on ne peut donc pas dire s'ils sont de ce patient : résultats "
        "{results}. Remplacez la carte (README, Backup and restore)",
    },
    "erase.done": {
        "en": "erased {screenings}, {photos}; {withdrawn}{in_flight}. The audit log records the erasure without "
        "the reference.",
        "fr": "supprimé : {screenings}, {photos} ; {withdrawn}{in_flight}. Le journal d'audit enregistre la "
        "suppression sans la référence.",
    },
    "erase.in_flight.one": {
        "en": "; {count} more had already been handed to the broker and may have reached it",
        "fr": " ; {count} autre avait déjà été remis au serveur du site et a pu lui parvenir",
    },
    "erase.in_flight.other": {
        "en": "; {count} more had already been handed to the broker and may have reached it",
        "fr": " ; {count} autres avaient déjà été remis au serveur du site et ont pu lui parvenir",
    },
    # Why the erased data is still on the disk (``Unpaid.cause``, records/erased_pages.py), as doctor's
    # erased check says it (``health.erased.*``), for the technician who has just erased.
    "erase.left_on_disk.reader": {
        "en": "Another process was reading the records (a backup, an export, the app's records screen): the "
        "erased data stays on the disk until that reading ends. It then leaves the write-ahead log at the end "
        "of the backup, at the next screening or erasure, or at the sync service's hourly maintenance "
        "(`edgescreen doctor` says whether it is still there)",
        "fr": "Un autre processus lisait les dossiers (une sauvegarde, un export, l'écran Dossiers de "
        "l'application) : les données supprimées restent sur le disque jusqu'à la fin de cette lecture. Elles "
        "quittent ensuite le journal d'écriture anticipée (WAL) à la fin de la sauvegarde, au prochain dépistage "
        "ou à la prochaine suppression, ou à la maintenance horaire du service de synchronisation "
        "(`edgescreen doctor` indique si elles y sont encore)",
    },
    "erase.left_on_disk.full": {
        "en": "The disk is full: the erased data stays on it, in the records' write-ahead log, as there was no "
        "room to take it out. Free space on the device; it then leaves at the next screening or erasure, or at "
        "the sync service's hourly maintenance (`edgescreen doctor` says whether it is still there)",
        "fr": "Le disque est plein : les données supprimées y restent, dans le journal d'écriture anticipée (WAL) "
        "des dossiers, faute de place pour les en retirer. Libérez de la place sur l'appareil ; elles en sortent "
        "ensuite au prochain dépistage ou à la prochaine suppression, ou à la maintenance horaire du service de "
        "synchronisation (`edgescreen doctor` indique si elles y sont encore)",
    },
    "erase.left_on_disk.damaged": {
        "en": "The records file is damaged: the erased data stays on the disk, in the records' write-ahead log, "
        "as it could not be taken out. Keep a copy of the records file as it is, restore the last backup onto a "
        "new card (README, Backup and restore), then erase this patient again, and any other erased since that "
        "backup",
        "fr": "Le fichier des dossiers est endommagé : les données supprimées restent sur le disque, dans le "
        "journal d'écriture anticipée (WAL) des dossiers, faute d'avoir pu en être retirées. Gardez une copie du "
        "fichier des dossiers tel quel, restaurez la dernière sauvegarde sur une carte neuve (README, Backup and "
        "restore), puis supprimez à nouveau ce patient, et tout autre supprimé depuis cette sauvegarde",
    },
    "erase.left_on_disk.failed": {
        "en": "The records could not be written (a file system mounted read-only, or a card that fails to write): "
        "the erased data stays on the disk, in the records' write-ahead log. This command's log says why; once "
        "the records can be written, it leaves at the next screening or erasure, or at the sync service's hourly "
        "maintenance (`edgescreen doctor` says whether it is still there)",
        "fr": "Les dossiers n'ont pas pu être écrits (un système de fichiers monté en lecture seule, ou une carte "
        "qui n'écrit plus) : les données supprimées restent sur le disque, dans le journal d'écriture anticipée "
        "(WAL) des dossiers. Le journal de cette commande dit pourquoi ; une fois les dossiers de nouveau "
        "inscriptibles, elles en sortent au prochain dépistage ou à la prochaine suppression, ou à la maintenance "
        "horaire du service de synchronisation (`edgescreen doctor` indique si elles y sont encore)",
    },
    # {held}: how many, the same words for one or more. The request is queued with the erasure
    # (records/erasure_outbox.py); {command} is the fallback for a station older than the request.
    "erase.at_station": {
        "en": "The review station may hold {held} of these results{photos} (no patient reference, but linkable "
        "by device, time and eye): the sync service asks it to erase them as soon as the broker answers. A "
        "station older than this release does not do it: its administrator then runs `{command}`",
        "fr": "Le poste de relecture peut détenir {held} de ces résultats{photos} (sans référence patient, mais "
        "reliables par appareil, heure et œil) : le service de synchronisation lui demande de les effacer dès "
        "que le broker répond. Un poste plus ancien que cette version ne le fait pas : son administrateur lance "
        "alors `{command}`",
    },
    "erase.with_photo.one": {"en": ", {count} with its photo", "fr": ", {count} avec sa photo"},
    "erase.with_photo.other": {"en": ", {count} with their photo", "fr": ", {count} avec leur photo"},
    # A visit of the patient erased was open on the app's screens (records/open_visits.py): the app, another
    # process, learns it only as it next records or shows that visit's results (web/pages_capture.py).
    # The audit log's ``export`` events of the erased results: decrypted copies no erasure reaches.
    "erase.exported.one": {
        "en": "This patient's photos were exported decrypted once, on {first} (edgescreen audit list --kind export): "
        "the erasure does not reach that copy. Delete it where it was saved: the browser's downloads on the device "
        "or a tablet, or the --out folder of edgescreen records export.",
        "fr": "Les photos de ce patient ont été exportées déchiffrées une fois, le {first} (edgescreen audit list "
        "--kind export) : l'effacement n'atteint pas cette copie. Supprimez-la là où elle a été enregistrée : les "
        "téléchargements du navigateur sur l'appareil ou une tablette, ou le dossier --out d'edgescreen records "
        "export.",
    },
    "erase.exported.other": {
        "en": "This patient's photos were exported decrypted {count} times, from {first} to {last} (edgescreen "
        "audit list --kind export): the erasure does not reach those copies. Delete them where they were saved: "
        "the browser's downloads on the device or a tablet, or the --out folder of edgescreen records export.",
        "fr": "Les photos de ce patient ont été exportées déchiffrées {count} fois, du {first} au {last} "
        "(edgescreen audit list --kind export) : l'effacement n'atteint pas ces copies. Supprimez-les là où elles "
        "ont été enregistrées : les téléchargements du navigateur sur l'appareil ou une tablette, ou le dossier "
        "--out d'edgescreen records export.",
    },
    "erase.visit_open": {
        "en": "A visit of this patient is open on the app's screens: nothing more is recorded for them. The app "
        "closes it and tells the nurse at the next result recorded for them, or the next time their result "
        "or hand-out is opened; tell the nurse now if you can.",
        "fr": "Une visite de ce patient est ouverte sur les écrans de l'application : plus rien n'est enregistré "
        "pour lui. L'application la ferme et le dit à l'infirmier(ère) au prochain résultat enregistré pour ce "
        "patient, ou à la prochaine ouverture de son résultat ou de son document patient ; prévenez "
        "l'infirmier(ère) dès maintenant si vous le pouvez.",
    },
    # ``edgescreen records export`` (records_cli.py): photos a worn card damaged are left out, the rest goes on.
    "export.photo_damaged.one": {
        "en": "not exported: the photo of result {results}, which does not open with the key (its bytes changed "
        "on the card: it is wearing out); everything else was exported. Replace the card (README, Backup and "
        "restore)",
        "fr": "non exportée : la photo du résultat {results}, qui ne s'ouvre pas avec la clé (ses octets ont "
        "changé sur la carte : elle s'use) ; tout le reste a été exporté. Remplacez la carte (README, Backup and "
        "restore)",
    },
    "export.photo_damaged.other": {
        "en": "not exported: the photos of results {results}, which do not open with the key (their bytes changed "
        "on the card: it is wearing out); everything else was exported. Replace the card (README, Backup and "
        "restore)",
        "fr": "non exportées : les photos des résultats {results}, qui ne s'ouvrent pas avec la clé (leurs octets "
        "ont changé sur la carte : elle s'use) ; tout le reste a été exporté. Remplacez la carte (README, Backup "
        "and restore)",
    },
    "export.folder_open": {
        "en": "note: {folder} is open to other users; the images in it are not",
        "fr": "remarque : {folder} est ouvert aux autres utilisateurs ; les images qu'il contient ne le sont pas",
    },
    # ``edgescreen sync retry-photos`` (records_cli.py): refused photos queued again for the review station.
    # ``edgescreen sync acknowledge-dropped``: {count} results deleted unsent that doctor stops warning of
    # (records/outbox.py ``acknowledge_dropped``); Today's rows keep saying each was never sent.
    # ``sync status``'s field labels as a person reads them ("sync.field.<key>", the key of its --json,
    # which keeps the English keys scripts read).
    "sync.field.connection": {"en": "connection", "fr": "connexion"},
    "sync.field.connection_since": {"en": "connection since", "fr": "état de connexion depuis"},
    "sync.field.connection_detail": {"en": "connection detail", "fr": "détail de la connexion"},
    "sync.field.backlog": {"en": "backlog", "fr": "en attente d'envoi"},
    "sync.field.oldest_unsent": {"en": "oldest unsent", "fr": "plus ancien non envoyé"},
    "sync.field.oldest_unsent_age_s": {"en": "oldest unsent age s", "fr": "âge du plus ancien non envoyé (s)"},
    "sync.field.undated_unsent": {"en": "undated unsent", "fr": "non envoyés sans date sûre"},
    "sync.field.sent": {"en": "sent", "fr": "envoyés"},
    "sync.field.withheld": {"en": "withheld", "fr": "retenus car altérés"},
    "sync.field.dropped": {"en": "dropped", "fr": "supprimés non envoyés"},
    "sync.field.dropped_unacknowledged": {"en": "dropped unacknowledged", "fr": "supprimés non acquittés"},
    "sync.field.erasure_requests": {"en": "erasure requests", "fr": "demandes d'effacement"},
    "sync.field.erasures_withheld": {"en": "erasures withheld", "fr": "effacements retenus car altérés"},
    "sync.field.erasures_refused": {"en": "erasures refused", "fr": "effacements refusés"},
    "sync.field.last_success": {"en": "last success", "fr": "dernier envoi réussi"},
    "sync.field.crashes": {"en": "crashes", "fr": "arrêts anormaux"},
    "sync.field.last_crash": {"en": "last crash", "fr": "dernier arrêt anormal"},
    "sync.field.photos_waiting": {"en": "photos waiting", "fr": "photos en attente"},
    "sync.field.photos_oldest_waiting_age_s": {
        "en": "oldest photo waiting age s",
        "fr": "âge de la plus ancienne photo en attente (s)",
    },
    "sync.field.photos_undated_waiting": {"en": "photos waiting undated", "fr": "photos en attente sans date sûre"},
    "sync.field.photos_uploaded": {"en": "photos uploaded", "fr": "photos envoyées"},
    "sync.field.photos_refused": {"en": "photos refused", "fr": "photos refusées"},
    "sync.field.photos_erased_at_the_station": {
        "en": "photos erased at the station",
        "fr": "photos effacées à la station",
    },
    "sync.field.photos_set_aside": {"en": "photos set aside", "fr": "photos mises de côté"},
    "sync.field.last_failure": {"en": "last failure", "fr": "dernier échec"},
    "sync.field.what_to_do": {"en": "what to do", "fr": "que faire"},
    # The sync worker's state as ``sync status`` says it ("sync.state.<state>", ``Outbox.set_connection``'s
    # states); its --json keeps the English, which scripts and the readiness list read.
    "sync.state.never_started": {"en": "never started", "fr": "jamais démarré"},
    "sync.state.starting": {"en": "starting", "fr": "démarrage"},
    "sync.state.connecting": {"en": "connecting", "fr": "connexion en cours"},
    "sync.state.connected": {"en": "connected", "fr": "connecté"},
    "sync.state.disconnected": {"en": "disconnected", "fr": "déconnecté"},
    "sync.state.refused": {"en": "refused", "fr": "refusé"},
    "sync.state.tls-unusable": {"en": "tls-unusable", "fr": "fichiers TLS inutilisables"},
    "sync.state.damaged-records": {"en": "damaged-records", "fr": "dossiers endommagés"},
    "sync.state.crashed": {"en": "crashed", "fr": "arrêté sur une erreur"},
    "sync.state.stopped": {"en": "stopped", "fr": "arrêté"},
    "sync.state.crash_looping": {
        "en": "crash-looping ({crashes} unclean restarts in a row, the last on {at}; now {state})",
        "fr": "redémarre en boucle ({crashes} redémarrages d'affilée après un arrêt anormal, le dernier survenu "
        "le {at} ; maintenant {state})",
    },
    "sync.state.not_running": {
        "en": "not running (last state: {state})",
        "fr": "ne tourne pas (dernier état : {state})",
    },
    # The sync worker's last unclean end as ``sync status`` says it: when, and why (its own error's words,
    # the technician's, when it caught one; else killed in the state it was in, by its key above).
    "sync.crash.at": {"en": "{at}: {why}", "fr": "{at} : {why}"},
    "sync.crash.killed": {
        "en": "ended without a clean stop (killed, out of memory, a power cut or the watchdog) while {state}",
        "fr": "interrompu brutalement (tué, mémoire épuisée, coupure de courant ou chien de garde) alors "
        "qu'il était dans l'état : {state}",
    },
    "sync.crash.no_reason": {"en": "no reason recorded", "fr": "aucune raison enregistrée"},
    "sync.dropped_acknowledged.one": {
        "en": "{count} result deleted unsent acknowledged: doctor no longer warns of it (Today still marks it "
        '"Never sent")',
        "fr": "{count} résultat supprimé sans être envoyé pris en compte : doctor ne le signale plus (les dépistages "
        "du jour l'indiquent toujours « Jamais envoyé »)",
    },
    "sync.dropped_acknowledged.other": {
        "en": "{count} results deleted unsent acknowledged: doctor no longer warns of them (Today still marks them "
        '"Never sent")',
        "fr": "{count} résultats supprimés sans être envoyés pris en compte : doctor ne les signale plus (les "
        "dépistages du jour les indiquent toujours « Jamais envoyés »)",
    },
    "sync.photos_retried.one": {
        "en": "{count} refused photo queued again for the review station: the sync worker sends it next",
        "fr": "{count} photo refusée remise en file pour le poste de relecture : le service de synchronisation "
        "l'envoie ensuite",
    },
    "sync.photos_retried.other": {
        "en": "{count} refused photos queued again for the review station: the sync worker sends them next",
        "fr": "{count} photos refusées remises en file pour le poste de relecture : le service de synchronisation "
        "les envoie ensuite",
    },
    # After sync.photos_retried: the photos the station answered 410, never queued again (records/uploads.py).
    "sync.photos_erased_at_the_station.one": {
        "en": "{count} photo not queued again: the review station erased its result at the patient's request, "
        "and will not take it",
        "fr": "{count} photo non remise en file : le poste de relecture a effacé son résultat à la demande du "
        "patient, et ne la prendra pas",
    },
    "sync.photos_erased_at_the_station.other": {
        "en": "{count} photos not queued again: the review station erased their results at the patients' "
        "request, and will not take them",
        "fr": "{count} photos non remises en file : le poste de relecture a effacé leurs résultats à la demande "
        "des patients, et ne les prendra pas",
    },
    # ``edgescreen capture --modality`` the device's camera does not take (cli.py): said before it is opened.
    "capture.other_modality": {
        "en": "capture --modality {modality}: this device's {backend} camera screens {screened} photos only "
        "([device] modality in {config})",
        "fr": "capture --modality {modality} : la caméra {backend} de cet appareil ne dépiste que des photos "
        "{screened} ([device] modality dans {config})",
    },
    # ``edgescreen capture`` stopped by SIGTERM or Ctrl-C while aiming (cli.py): no burst was taken.
    "capture.stopped": {
        "en": "stopped: the photo was not taken; nothing was recorded.",
        "fr": "arrêté : la photo n'a pas été prise ; rien n'a été enregistré.",
    },
    # A second SIGTERM, Ctrl-C or SIGHUP while a command stops (service/termination.py): it ends at once.
    "stop.at_once": {
        "en": "stopped at once (a second signal): what was recorded is kept; what was under way was not recorded, "
        "and the next start finishes tidying the records.",
        "fr": "arrêté sur-le-champ (un second signal) : ce qui était enregistré est conservé ; ce qui était en "
        "cours n'a pas été enregistré, et le prochain démarrage finit de ranger les dossiers.",
    },
    # ``edgescreen doctor`` stopped by SIGTERM or Ctrl-C at a stop point around its probes (device_cli.py).
    "doctor.stopped": {
        "en": "doctor: stopped before every check was run: no report was made; run it again.",
        "fr": "doctor : arrêté avant que toutes les vérifications soient faites : aucun rapport n'a été fait ; "
        "relancez-le.",
    },
    # ``edgescreen doctor``'s report (device_cli.py): each line's level, then the count of each. The
    # colours are those of the readiness list; French says them "en rouge", whatever the count.
    "doctor.level.red": {"en": "RED", "fr": "ROUGE"},
    "doctor.level.amber": {"en": "AMBER", "fr": "ORANGE"},
    "doctor.level.green": {"en": "GREEN", "fr": "VERT"},
    "doctor.summary": {
        "en": "doctor: {red} red, {amber} amber, {green} green",
        "fr": "doctor : {red} en rouge, {amber} en orange, {green} en vert",
    },
    # ``edgescreen calibrate still`` stopped by SIGTERM or Ctrl-C while the camera was open (calibrate_command.py).
    "calibrate.still.stopped": {
        "en": "calibrate still: stopped: no still was written.",
        "fr": "calibrate still : arrêté : aucune photo n'a été écrite.",
    },
    # ``edgescreen calibrate still`` (calibrate_command.py), for the technician photographing a target.
    "calibrate.still.taken": {
        "en": "{out}: {width}x{height} still from the {camera} camera, uncalibrated",
        "fr": "{out} : photo de {width}x{height} prise par la caméra {camera}, non étalonnée",
    },
    "calibrate.still.lossless": {
        "en": "calibrate still: --out must end in {suffixes}, a lossless format: a JPEG's compression would add "
        "its own blocks and colour shifts to the target",
        "fr": "calibrate still : --out doit se terminer par {suffixes}, un format sans perte : la compression d'un "
        "JPEG ajouterait ses propres blocs et décalages de couleur à la mire",
    },
    # {what}: what happened to the camera (``camera.*``); the camera's own words are in the log line before.
    "calibrate.still.camera_failed": {
        "en": "calibrate still: the camera is not working: {what}. No photo was taken; the log says what the "
        "camera reported.",
        "fr": "calibrate still : la caméra ne fonctionne pas : {what}. Aucune photo n'a été prise ; le journal dit "
        "ce que la caméra a signalé.",
    },
    "calibrate.still.exists": {
        "en": "calibrate still: {out} exists already: a still is never written over an earlier photo; give a new "
        "file name",
        "fr": "calibrate still : {out} existe déjà : une photo n'est jamais écrite par-dessus une autre ; donnez un "
        "nouveau nom de fichier",
    },
    # ``edgescreen calibrate flat|colour|geometry|scale`` (calibrate_command.py): {step} is the command's
    # step as typed (flat, colour...); a profile's or the file system's own words are the log's.
    "calibrate.needs_profile": {
        "en": "calibrate needs --profile FILE (or [calibration] profile in the config)",
        "fr": "calibrate a besoin de --profile FICHIER (ou de [calibration] profile dans la configuration)",
    },
    "calibrate.profile_unusable": {
        "en": "{step} calibration refused: the profile {path} cannot be read (the log says why). A step cannot be "
        "added to this file: move it aside (mv {path} {path}.broken) and make each step of the profile again",
        "fr": "étalonnage {step} refusé : le profil {path} est illisible (le journal dit pourquoi). Aucune étape ne "
        "peut être ajoutée à ce fichier : mettez-le de côté (mv {path} {path}.broken) et refaites chaque étape du "
        "profil",
    },
    "calibrate.other_camera": {
        "en": "{step} calibration refused, {path} left unchanged: it is the profile of camera {model}, serial "
        "{serial}; {other} names another: give that camera's own profile file",
        "fr": "étalonnage {step} refusé, {path} inchangé : c'est le profil de la caméra {model}, numéro de série "
        "{serial} ; {other} en désigne une autre : donnez le fichier de profil propre à cette caméra",
    },
    # {why}: what the photos lack (calibration's TargetNotFound).
    "calibrate.target_refused": {
        "en": "{step} calibration refused, {path} left unchanged: {why}",
        "fr": "étalonnage {step} refusé, {path} inchangé : {why}",
    },
    "calibrate.not_written": {
        "en": "{step} measured but not written: cannot write {path}; the log says why (on a device the profile is "
        "written as root: calibration/README.md, 'On an installed device')",
        "fr": "étape {step} mesurée mais non écrite : impossible d'écrire {path} ; le journal dit pourquoi (sur un "
        "appareil, le profil est écrit en root : calibration/README.md, « On an installed device »)",
    },
    # {errors}: the step's measured figures, as the profile names them.
    "calibrate.measured": {
        "en": "{path}: profile {id}: {step} measured: {errors}",
        "fr": "{path} : profil {id} : étape {step} mesurée : {errors}",
    },
    "calibrate.and": {"en": "{first} and {last}", "fr": "{first} et {last}"},
    # One photo a command leaves out (calibrate's step, screen's calibrated export or misfit photo), and why;
    # the log line (calibrate.image_refused, screen.image_refused) has the details, never the file name.
    "photo.refused": {"en": "{path}  REFUSED  {why}", "fr": "{path}  REFUSÉE  {why}"},
    # One photo ``screen`` or ``run`` leaves out as screened and recorded before (cli.py): {why} is
    # screen.screened_before.
    "photo.screened_before": {"en": "{path}  ALREADY SCREENED  {why}", "fr": "{path}  DÉJÀ DÉPISTÉE  {why}"},
    # What the photos of a target lack (calibration's TargetNotFound), and what to do.
    "calibrate.target.no_frames": {"en": "no frames of the uniform target", "fr": "aucune image de la mire uniforme"},
    "calibrate.target.sizes_differ": {
        "en": "the frames have different sizes: take them all with the same camera settings",
        "fr": "les images n'ont pas toutes la même taille : prenez-les toutes avec les mêmes réglages de caméra",
    },
    "calibrate.target.overexposed": {
        "en": "{percent}% of the target is overexposed (clipped at white): lower the exposure",
        "fr": "{percent}\u00a0% de la mire est surexposée (saturée au blanc) : baissez l'exposition",
    },
    "calibrate.target.too_dark": {
        "en": "the target is too dark: light it, or raise the exposure",
        "fr": "la mire est trop sombre : éclairez-la, ou augmentez l'exposition",
    },
    "calibrate.target.moved": {
        "en": "frame {frame} differs from the others by {percent}%: the target or the light moved",
        "fr": "l'image {frame} diffère des autres de {percent}\u00a0% : la mire ou la lumière a bougé",
    },
    "calibrate.target.not_uniform": {
        "en": "the target is not uniform (texture {percent}% after removing the illumination): use a plain, matte, "
        "evenly coloured card that fills the whole frame, slightly defocused, and clean the lens (a smudge or dust "
        "on it is the same dark spot in every frame)",
        "fr": "la mire n'est pas uniforme (texture de {percent}\u00a0% une fois l'éclairage retiré) : utilisez un "
        "carton uni, mat, de couleur égale, qui remplit toute l'image, légèrement flou, et nettoyez l'objectif (une "
        "trace ou une poussière dessus fait la même tache sombre sur chaque image)",
    },
    "calibrate.target.edges_dark": {
        "en": "the edges get {percent}% of the centre's light: the target does not fill the frame, or is lit from "
        "one side",
        "fr": "les bords reçoivent {percent}\u00a0% de la lumière du centre : la mire ne remplit pas l'image, ou est "
        "éclairée d'un côté",
    },
    "calibrate.target.no_board": {
        "en": "no {columns}x{rows} checkerboard (inner corners) found: the whole board must be in the photo, sharp "
        "and evenly lit",
        "fr": "aucun damier de {columns}x{rows} (coins intérieurs) trouvé : tout le damier doit être dans la photo, "
        "net et éclairé également",
    },
    "calibrate.target.few_boards.one": {
        "en": "the checkerboard was found in {count} photo; at least {needed} are needed, tilted differently and "
        "covering the corners of the frame",
        "fr": "le damier a été trouvé sur {count} photo ; il en faut au moins {needed}, inclinées différemment et "
        "couvrant les coins de l'image",
    },
    "calibrate.target.few_boards.other": {
        "en": "the checkerboard was found in {count} photos; at least {needed} are needed, tilted differently and "
        "covering the corners of the frame",
        "fr": "le damier a été trouvé sur {count} photos ; il en faut au moins {needed}, inclinées différemment et "
        "couvrant les coins de l'image",
    },
    "calibrate.target.no_square": {
        "en": "no dark square found (print calibration/targets/scale-target-10mm.svg at 100% and fill part of the "
        "frame)",
        "fr": "aucun carré sombre trouvé (imprimez calibration/targets/scale-target-10mm.svg à 100\u00a0% et "
        "remplissez-en une partie de l'image)",
    },
    "calibrate.target.square_at_edge": {
        "en": "the square touches the edge of the photo: centre the target (print "
        "calibration/targets/scale-target-10mm.svg at 100% and fill part of the frame)",
        "fr": "le carré touche le bord de la photo : centrez la mire (imprimez "
        "calibration/targets/scale-target-10mm.svg à 100\u00a0% et remplissez-en une partie de l'image)",
    },
    "calibrate.target.not_square": {
        "en": "the dark shape found is not a square (print calibration/targets/scale-target-10mm.svg at 100% and "
        "fill part of the frame)",
        "fr": "la forme sombre trouvée n'est pas un carré (imprimez calibration/targets/scale-target-10mm.svg à "
        "100\u00a0% et remplissez-en une partie de l'image)",
    },
    "calibrate.target.square_tilted": {
        "en": "the square looks like a rectangle: hold the target flat and facing the camera (print "
        "calibration/targets/scale-target-10mm.svg at 100% and fill part of the frame)",
        "fr": "le carré ressemble à un rectangle : tenez la mire à plat, face à la caméra (imprimez "
        "calibration/targets/scale-target-10mm.svg à 100\u00a0% et remplissez-en une partie de l'image)",
    },
    "calibrate.target.no_scale_photo": {
        "en": "no photo of the scale target was usable",
        "fr": "aucune photo de la mire d'échelle n'était utilisable",
    },
    "calibrate.target.scales_disagree": {
        "en": "the photos disagree: one reads {percent}% off the typical millimetres per pixel (at most {limit}%): "
        "the target was not at the working distance in every photo, or not the same size; take them all as a "
        "patient's photo is taken",
        "fr": "les photos ne concordent pas : l'une s'écarte de {percent}\u00a0% des millimètres par pixel typiques "
        "(au plus {limit}\u00a0%) : la mire n'était pas à la distance de travail sur chaque photo, ou pas de la même "
        "taille ; prenez-les toutes comme on prend la photo d'un patient",
    },
    "calibrate.target.no_chart": {
        "en": "no colour chart found: the chart's black board must be whole in the photo, on a lighter background, "
        "and cover at least {percent}% of it",
        "fr": "aucune charte de couleurs trouvée : le support noir de la charte doit être entier dans la photo, sur "
        "un fond plus clair, et en couvrir au moins {percent}\u00a0%",
    },
    "calibrate.target.not_a_chart": {
        "en": "a dark board was found but its patches do not match the 24-patch chart (luminance correlation "
        "{correlation} < {minimum}): photograph the whole chart, flat and unobstructed",
        "fr": "un support sombre a été trouvé mais ses pastilles ne correspondent pas à la charte de 24 pastilles "
        "(corrélation de luminance {correlation} < {minimum}) : photographiez toute la charte, à plat et dégagée",
    },
    # {patch}: the chart's own name of the patch, as printed on it.
    "calibrate.target.patch_uneven": {
        "en": "the '{patch}' patch is not evenly coloured (spread {spread} of 255 levels, at most {limit}): a "
        "finger, a shadow or a reflection is on the chart; photograph it unobstructed, without glare",
        "fr": "la pastille «\u00a0{patch}\u00a0» n'est pas de couleur égale (écart de {spread} niveaux sur 255, au "
        "plus {limit}) : un doigt, une ombre ou un reflet est sur la charte ; photographiez-la dégagée, sans reflet",
    },
    "calibrate.target.white_clipped": {
        "en": "the white patch is clipped: lower the exposure or the light",
        "fr": "la pastille blanche est saturée : baissez l'exposition ou la lumière",
    },
    "calibrate.target.chart_too_dark": {
        "en": "the chart is too dark (white patch below 60 of 255): add light or exposure",
        "fr": "la charte est trop sombre (pastille blanche sous 60 sur 255) : ajoutez de la lumière ou de l'exposition",
    },
    "calibrate.target.size_differs": {
        "en": "{size} differs from the first photo's {first}",
        "fr": "{size} au lieu de {first}, la taille de la première photo",
    },
    "calibrate.target.chart_not_card": {
        "en": "this is the colour chart, not a flat card: the flat field is measured on a plain, matte, evenly "
        "coloured card that fills the frame; the chart is for 'edgescreen calibrate colour'",
        "fr": "c'est la charte de couleurs, pas un carton uni : le champ plat se mesure sur un carton uni, mat, de "
        "couleur égale, qui remplit l'image ; la charte sert à «\u00a0edgescreen calibrate colour\u00a0»",
    },
    "calibrate.target.flat_all_usable": {
        "en": "every frame of the uniform target must be usable",
        "fr": "chaque image de la mire uniforme doit être utilisable",
    },
    "calibrate.target.no_chart_anywhere": {
        "en": "the colour chart was found in none of the photos",
        "fr": "la charte de couleurs n'a été trouvée sur aucune photo",
    },
    # Later steps measured on photos corrected without this change ({steps}: the profile's step names).
    "calibrate.stale.one": {
        "en": "note: the {steps} step was measured before this change: make it again",
        "fr": "note : l'étape {steps} a été mesurée avant ce changement : refaites-la",
    },
    "calibrate.stale.other": {
        "en": "note: the {steps} steps were measured before this change: make them again, in this order",
        "fr": "note : les étapes {steps} ont été mesurées avant ce changement : refaites-les, dans cet ordre",
    },
    # What happened to the camera (capture/camera.py, ``CameraError.sentence``), said after "The camera
    # is not working:"; the camera's own words (a device path, a driver's message) go to the log.
    "camera.failed": {"en": "it reported a fault", "fr": "elle a signalé une panne"},
    "camera.unavailable": {
        "en": "no camera was found on this device",
        "fr": "aucune caméra n'a été trouvée sur cet appareil",
    },
    "camera.misconfigured": {
        "en": "it is not set up right on this device",
        "fr": "elle n'est pas configurée correctement sur cet appareil",
    },
    "camera.busy": {
        "en": "it could not be opened, another program may be using it",
        "fr": "elle n'a pas pu être ouverte, un autre programme l'utilise peut-être",
    },
    "camera.stream": {"en": "its video stream could not be read", "fr": "son flux vidéo n'a pas pu être lu"},
    "camera.stalled": {"en": "it stopped sending pictures", "fr": "elle n'envoie plus d'images"},
    "camera.frozen": {
        "en": "it sent the same picture again, its sensor has stopped",
        "fr": "elle a renvoyé la même image, son capteur s'est arrêté",
    },
    "camera.unsupported_format": {
        "en": "it sends pictures in a format this device cannot read",
        "fr": "elle envoie des images dans un format que cet appareil ne sait pas lire",
    },
    "camera.control_out_of_range": {
        "en": "a setting configured for it is beyond what it can do",
        "fr": "un réglage configuré pour elle dépasse ce qu'elle sait faire",
    },
    # A calibration profile the frames do not fit (app.profile_misfit): a lens step made at other proportions.
    "camera.profile_misfit": {
        "en": "its pictures do not fit the calibration profile",
        "fr": "ses images ne correspondent pas au profil d'étalonnage",
    },
    # The app's (web/camera_owner.py): a screen's burst once another screen took the camera over.
    "camera.taken_over": {
        "en": "another screen has taken it over",
        "fr": "un autre écran l'utilise désormais",
    },
    # The files camera (capture/files_camera.py): photos replayed as a camera's frames.
    "camera.files.missing": {
        "en": "a photo file or folder it is set to read is missing",
        "fr": "un fichier ou un dossier de photos qu'elle doit lire est absent",
    },
    "camera.files.none": {"en": "it has no photos to read", "fr": "elle n'a aucune photo à lire"},
    "camera.files.unusable.one": {
        "en": "the one photo it reads cannot be used",
        "fr": "la seule photo qu'elle lit est inutilisable",
    },
    "camera.files.unusable.other": {
        "en": "none of the {count} photos it reads can be used",
        "fr": "aucune des {count} photos qu'elle lit n'est utilisable",
    },
    # Why a file is not a photo the device can use (capture/image_file.py's ImageError): said after the
    # file's name ("{path}  ERROR  {why}"). {detail} is a library's own English (Pillow's, libjpeg's),
    # for the technician; the figures are written as the language writes them (``grouped``).
    "image.not_an_image": {
        "en": "not an image file (unrecognised format)",
        "fr": "pas un fichier image (format non reconnu)",
    },
    "image.header_unreadable": {
        "en": "unreadable image header ({detail})",
        "fr": "en-tête d'image illisible ({detail})",
    },
    "image.jpeg_damaged": {
        "en": "the JPEG is damaged (its structure breaks at byte {position} of {size}): copy it again",
        "fr": "le JPEG est endommagé (sa structure se rompt à l'octet {position} sur {size}) : copiez-le de nouveau",
    },
    "image.jpeg_truncated": {
        "en": "the JPEG is truncated (no end-of-image marker): copy it again",
        "fr": "le JPEG est tronqué (pas de marqueur de fin d'image) : copiez-le de nouveau",
    },
    "image.jpeg_picture_damaged": {
        "en": "the JPEG's picture data is damaged (libjpeg: {detail}): copy it again",
        "fr": "les données d'image du JPEG sont endommagées (libjpeg : {detail}) : copiez-le de nouveau",
    },
    # {described} in the refusals below, read from the file's header before anything is decoded.
    "image.described": {"en": "{format} image of {size} pixels", "fr": "image {format} de {size} pixels"},
    "image.several_pictures": {
        "en": "{described} holds several pictures (an animation or pages): export the one photo",
        "fr": "{described} : plusieurs images (une animation ou des pages) ; exportez la photo seule",
    },
    "image.too_many_pixels": {
        "en": "{described} is larger than the {limit}-pixel limit; refused before decoding",
        "fr": "{described} : plus grande que la limite de {limit} pixels ; refusée avant décodage",
    },
    "image.side_too_long": {
        "en": "{described} has a side longer than the {limit} pixels a JPEG can hold; refused before decoding",
        "fr": "{described} : un côté plus long que les {limit} pixels qu'un JPEG peut contenir ; refusée avant "
        "décodage",
    },
    "image.decoded_too_large": {
        "en": "{described} would take {decoded} bytes decoded, more than the {limit}-byte limit; refused before "
        "decoding (export it smaller, or as JPEG)",
        "fr": "{described} : prendrait {decoded} octets décodée, plus que la limite de {limit} octets ; refusée avant "
        "décodage (exportez-la plus petite, ou en JPEG)",
    },
    "image.png_too_much_data": {
        "en": "the PNG's picture data inflates to more than the {needed} bytes its {size} pixels take (a "
        "decompression bomb); refused before decoding",
        "fr": "les données d'image du PNG se décompressent en plus des {needed} octets que prennent ses {size} "
        "pixels (une bombe de décompression) ; refusé avant décodage",
    },
    "image.empty": {"en": "empty file", "fr": "fichier vide"},
    "image.file_too_large": {
        "en": "file of {size} bytes is larger than the {limit}-byte limit",
        "fr": "fichier de {size} octets, plus grand que la limite de {limit} octets",
    },
    "image.missing": {"en": "no such file", "fr": "fichier introuvable"},
    "image.directory": {"en": "is a directory, not an image", "fr": "est un dossier, pas une image"},
    # {reason}: the system's (``system_reason``).
    "image.unreadable_file": {"en": "cannot read ({reason})", "fr": "illisible ({reason})"},
    "image.format_not_read": {
        "en": "{format} images are not read by the device: export the photo as JPEG or PNG",
        "fr": "l'appareil ne lit pas les images {format} : exportez la photo en JPEG ou en PNG",
    },
    "image.undecodable": {
        "en": "the image data is corrupt or truncated, or a kind of {format} the device does not read (export the "
        "photo as an 8-bit JPEG or PNG)",
        "fr": "les données de l'image sont corrompues ou tronquées, ou c'est une sorte de {format} que l'appareil ne "
        "lit pas (exportez la photo en JPEG ou en PNG 8 bits)",
    },
    # A photo ``records export`` wrote, given to screening (capture/photo_to_screen.py): its pixels are calibrated.
    "screen.already_calibrated": {
        "en": "exported from the records (result {result_id}), its colours already calibrated (profile "
        "{calibration}): screening it would calibrate them a second time and triage a photo nobody took. Its "
        "result is in the records: edgescreen records show {result_id}",
        "fr": "exportée des dossiers (résultat {result_id}), ses couleurs déjà étalonnées (profil {calibration}) : "
        "la dépister l'étalonnerait une seconde fois et trierait une photo que personne n'a prise. Son résultat "
        "est dans les dossiers : edgescreen records show {result_id}",
    },
    # A photo file whose proportions the profile's lens step does not fit (calibration/profile.py, ProfileMisfit):
    # {size} the photo's, {calibrated} the lens step's, each as 1280x857. The camera's own frames that misfit
    # are the camera set up wrong instead (camera.profile_misfit).
    "screen.photo_misfit": {
        "en": "this photo's proportions are not this camera's: {size}, where its lens was calibrated on {calibrated} "
        "photos; a cropped photo, or another camera's, cannot be corrected by this device's profile",
        "fr": "les proportions de cette photo ne sont pas celles de cette caméra : {size}, alors que son objectif a "
        "été étalonné sur des photos de {calibrated} ; une photo recadrée, ou d'une autre caméra, ne peut pas être "
        "corrigée par le profil de cet appareil",
    },
    # A photo file the records hold a screening of, its bytes and patient, eye or body site the same
    # (records/store.py, screened_before): a batch run again after a power cut. {at}: when it was recorded.
    "screen.screened_before": {
        "en": "this photo was already screened (result {result_id}, {at}): not screened again; its result: "
        "edgescreen records show {result_id}",
        "fr": "cette photo a déjà été dépistée (résultat {result_id}, {at}) : pas dépistée une seconde fois ; son "
        "résultat : edgescreen records show {result_id}",
    },
    # After a batch (cli.py): {count} of its photos were screened.screened_before, left out.
    "screen.not_again.one": {
        "en": "{count} photo was already screened on this device and was not screened again: its result stands.",
        "fr": "{count} photo avait déjà été dépistée sur cet appareil et ne l'a pas été une seconde fois : son "
        "résultat reste.",
    },
    "screen.not_again.other": {
        "en": "{count} photos were already screened on this device and were not screened again: their results stand.",
        "fr": "{count} photos avaient déjà été dépistées sur cet appareil et ne l'ont pas été une seconde fois : "
        "leurs résultats restent.",
    },
    # ``edgescreen screen`` stopped by SIGTERM or Ctrl-C between two photos (cli.py): {count} left unscreened.
    "screen.stopped.one": {
        "en": "stopped: {count} photo was not screened; the results above are recorded.",
        "fr": "arrêté : {count} photo n'a pas été dépistée ; les résultats ci-dessus sont enregistrés.",
    },
    "screen.stopped.other": {
        "en": "stopped: {count} photos were not screened; the results above are recorded.",
        "fr": "arrêté : {count} photos n'ont pas été dépistées ; les résultats ci-dessus sont enregistrés.",
    },
    # ``edgescreen screen``, ``run`` or ``capture`` whose screenings deleted {count} results unsent from the full
    # outbox ([sync] overflow_policy = "drop_oldest", records/store.py): said once, after the results (cli.py).
    "screen.dropped.one": {
        "en": "{count} result was deleted unsent to make room in the full outbox ([sync] overflow_policy = "
        '"drop_oldest"): no specialist will see it; edgescreen doctor says what to do.',
        "fr": "{count} résultat a été supprimé sans être envoyé pour faire de la place dans la file d'envoi pleine "
        '([sync] overflow_policy = "drop_oldest") : aucun spécialiste ne le verra ; edgescreen doctor dit quoi faire.',
    },
    "screen.dropped.other": {
        "en": "{count} results were deleted unsent to make room in the full outbox ([sync] overflow_policy = "
        '"drop_oldest"): no specialist will see them; edgescreen doctor says what to do.',
        "fr": "{count} résultats ont été supprimés sans être envoyés pour faire de la place dans la file d'envoi "
        'pleine ([sync] overflow_policy = "drop_oldest") : aucun spécialiste ne les verra ; edgescreen doctor dit '
        "quoi faire.",
    },
    # ``edgescreen run`` stopped by SIGTERM or Ctrl-C before its sync delivered everything (cli.py).
    "sync.stopped.one": {
        "en": "stopped: {count} result was not sent; it waits in the outbox for the sync service.",
        "fr": "arrêté : {count} résultat n'a pas été envoyé ; il attend dans la file d'envoi le service de "
        "synchronisation.",
    },
    "sync.stopped.other": {
        "en": "stopped: {count} results were not sent; they wait in the outbox for the sync service.",
        "fr": "arrêté : {count} résultats n'ont pas été envoyés ; ils attendent dans la file d'envoi le service "
        "de synchronisation.",
    },
    # ``edgescreen run``'s last line, once its sync has had its time (cli.py ``_sync_once``): where the
    # results stand. {count} is the results it speaks of; {broker} is host:port; {detail} is the sync's own
    # words for the technician (a TLS file, the broker's refusal), as ``sync status`` shows them.
    "run.sync.held_delivering.one": {
        "en": "{count} result in the outbox; this device's sync service is delivering it",
        "fr": "{count} résultat dans la file d'envoi ; le service de synchronisation de l'appareil l'envoie",
    },
    "run.sync.held_delivering.other": {
        "en": "{count} results in the outbox; this device's sync service is delivering them",
        "fr": "{count} résultats dans la file d'envoi ; le service de synchronisation de l'appareil les envoie",
    },
    "run.sync.held_waiting.one": {
        "en": "{count} result in the outbox; this device's sync service is not connected to the broker at "
        "{broker} ({state}): it is kept safely and sent when it is reachable; `edgescreen sync status` shows "
        "the backlog.",
        "fr": "{count} résultat dans la file d'envoi ; le service de synchronisation de l'appareil n'est pas "
        "connecté au serveur du site {broker} ({state}) : il est conservé en sûreté et envoyé dès que le "
        "serveur est joignable ; `edgescreen sync status` montre ce qui attend.",
    },
    "run.sync.held_waiting.other": {
        "en": "{count} results in the outbox; this device's sync service is not connected to the broker at "
        "{broker} ({state}): they are kept safely and sent when it is reachable; `edgescreen sync status` shows "
        "the backlog.",
        "fr": "{count} résultats dans la file d'envoi ; le service de synchronisation de l'appareil n'est pas "
        "connecté au serveur du site {broker} ({state}) : ils sont conservés en sûreté et envoyés dès que le "
        "serveur est joignable ; `edgescreen sync status` montre ce qui attend.",
    },
    # {count} is every result sent so far, these and the earlier ones.
    "run.sync.delivered.one": {
        "en": "every result delivered to the broker at {broker} ({count} sent in all)",
        "fr": "tous les résultats remis au serveur du site {broker} ({count} envoyé en tout)",
    },
    "run.sync.delivered.other": {
        "en": "every result delivered to the broker at {broker} ({count} sent in all)",
        "fr": "tous les résultats remis au serveur du site {broker} ({count} envoyés en tout)",
    },
    # The same when some never left: {dropped} and {withheld} are the two counts below, said in full.
    "run.sync.delivered_not_all.one": {
        "en": "every queued result delivered to the broker at {broker} ({count} sent in all); never sent: "
        "{dropped}, {withheld}",
        "fr": "tous les résultats en file remis au serveur du site {broker} ({count} envoyé en tout) ; jamais "
        "envoyés : {dropped}, {withheld}",
    },
    "run.sync.delivered_not_all.other": {
        "en": "every queued result delivered to the broker at {broker} ({count} sent in all); never sent: "
        "{dropped}, {withheld}",
        "fr": "tous les résultats en file remis au serveur du site {broker} ({count} envoyés en tout) ; jamais "
        "envoyés : {dropped}, {withheld}",
    },
    "run.sync.dropped.one": {
        "en": '{count} deleted unsent from the full outbox ([sync] overflow_policy = "drop_oldest")',
        "fr": '{count} supprimé sans être envoyé de la file d\'envoi pleine ([sync] overflow_policy = "drop_oldest")',
    },
    "run.sync.dropped.other": {
        "en": '{count} deleted unsent from the full outbox ([sync] overflow_policy = "drop_oldest")',
        "fr": '{count} supprimés sans être envoyés de la file d\'envoi pleine ([sync] overflow_policy = "drop_oldest")',
    },
    "run.sync.withheld.one": {
        "en": "{count} withheld as altered (`edgescreen audit verify` names it)",
        "fr": "{count} retenu car altéré (`edgescreen audit verify` le nomme)",
    },
    "run.sync.withheld.other": {
        "en": "{count} withheld as altered (`edgescreen audit verify` names them)",
        "fr": "{count} retenus car altérés (`edgescreen audit verify` les nomme)",
    },
    "run.sync.tls_unusable.one": {
        "en": "{count} result kept safely in the outbox: the sync worker cannot start, {detail}. Fix [sync] tls_* "
        "(`edgescreen doctor` checks them).",
        "fr": "{count} résultat conservé en sûreté dans la file d'envoi : la synchronisation ne peut pas démarrer, "
        "{detail}. Corrigez [sync] tls_* (`edgescreen doctor` les vérifie).",
    },
    "run.sync.tls_unusable.other": {
        "en": "{count} results kept safely in the outbox: the sync worker cannot start, {detail}. Fix [sync] tls_* "
        "(`edgescreen doctor` checks them).",
        "fr": "{count} résultats conservés en sûreté dans la file d'envoi : la synchronisation ne peut pas "
        "démarrer, {detail}. Corrigez [sync] tls_* (`edgescreen doctor` les vérifie).",
    },
    "run.sync.refused.one": {
        "en": "{count} result kept safely in the outbox: the broker at {broker} refuses this device ({detail}). "
        "Check that the device's certificate is its own and that [device] id and site match it and the broker's "
        "ACL; `edgescreen doctor` checks the certificate.",
        "fr": "{count} résultat conservé en sûreté dans la file d'envoi : le serveur du site {broker} refuse cet "
        "appareil ({detail}). Vérifiez que le certificat de l'appareil est bien le sien et que [device] id et "
        "site correspondent à ce certificat et à l'ACL du serveur ; `edgescreen doctor` vérifie le certificat.",
    },
    "run.sync.refused.other": {
        "en": "{count} results kept safely in the outbox: the broker at {broker} refuses this device ({detail}). "
        "Check that the device's certificate is its own and that [device] id and site match it and the broker's "
        "ACL; `edgescreen doctor` checks the certificate.",
        "fr": "{count} résultats conservés en sûreté dans la file d'envoi : le serveur du site {broker} refuse cet "
        "appareil ({detail}). Vérifiez que le certificat de l'appareil est bien le sien et que [device] id et "
        "site correspondent à ce certificat et à l'ACL du serveur ; `edgescreen doctor` vérifie le certificat.",
    },
    "run.sync.not_taken.one": {
        "en": "{count} result kept safely in the outbox: the broker at {broker} did not take it within {wait} s. "
        "It is sent when the broker is reachable (`edgescreen sync run`, or the edgescreen-sync service); "
        "`edgescreen sync status` shows the backlog.",
        "fr": "{count} résultat conservé en sûreté dans la file d'envoi : le serveur du site {broker} ne l'a pas "
        "reçu en {wait} s. Il est envoyé dès que le serveur est joignable (`edgescreen sync run`, ou le service "
        "edgescreen-sync) ; `edgescreen sync status` montre ce qui attend.",
    },
    "run.sync.not_taken.other": {
        "en": "{count} results kept safely in the outbox: the broker at {broker} did not take them within {wait} "
        "s. They are sent when the broker is reachable (`edgescreen sync run`, or the edgescreen-sync service); "
        "`edgescreen sync status` shows the backlog.",
        "fr": "{count} résultats conservés en sûreté dans la file d'envoi : le serveur du site {broker} ne les a "
        "pas reçus en {wait} s. Ils sont envoyés dès que le serveur est joignable (`edgescreen sync run`, ou le "
        "service edgescreen-sync) ; `edgescreen sync status` montre ce qui attend.",
    },
    "records.storage_full": {
        "en": "Storage is full: this screening was not recorded. Call the technician to free space on the device.",
        "fr": "Stockage plein : ce dépistage n'a pas été enregistré. Appelez le technicien pour libérer de la place "
        "sur l'appareil.",
    },
    # A visit's next result, its patient erased since it opened (``edgescreen erase``, which the app's
    # refusal of an erasure mid-visit cannot reach): not recorded, and the visit closed.
    "records.patient_erased": {
        "en": "This patient's data was erased during the screening: this result was not saved, and the "
        "screening was closed. Ask the technician if you did not expect it.",
        "fr": "Les données de ce patient ont été supprimées pendant le dépistage : ce résultat n'a pas été "
        "enregistré, et le dépistage a été fermé. Demandez au technicien si vous ne vous y attendiez pas.",
    },
    # The result screen or the hand-out of a visit whose patient was erased since (``edgescreen erase``):
    # its results are shown no more, and the visit is closed, as its next result would be refused.
    "records.patient_erased_shown": {
        "en": "This patient's data was erased during the screening: their results are no longer kept on "
        "this device, and the screening was closed. Ask the technician if you did not expect it.",
        "fr": "Les données de ce patient ont été supprimées pendant le dépistage : ses résultats ne sont plus "
        "gardés sur l'appareil, et le dépistage a été fermé. Demandez au technicien si vous ne vous y "
        "attendiez pas.",
    },
    # A command that dates what it records or shows (screen, capture, sync status) on a clock the records do not
    # trust (records_cli.warn_of_the_clock): one line on stderr, as the app's clock line is amber.
    "records.clock_untrusted": {
        "en": "Warning: the clock is not set by network time ({now}): what this command records or shows is "
        "dated by it, and may be dated wrong. Ask the technician to set up a time server (NTP).",
        "fr": "Attention : l'horloge n'est pas réglée par le réseau ({now}) : ce que cette commande enregistre ou "
        "affiche est daté par elle, et peut l'être à tort. Demandez au technicien de configurer un serveur de "
        "temps (NTP).",
    },
    "records.outbox_full": {
        "en": "Too many results are waiting to be sent: this screening was not recorded. Connect the device to "
        "the network or call the technician.",
        "fr": "Trop de résultats attendent d'être envoyés : ce dépistage n'a pas été enregistré. Connectez "
        "l'appareil au réseau ou appelez le technicien.",
    },
    # The same refusal by the age cap (``outbox_max_age_days``) alone, fewer results waiting than the row cap.
    "records.outbox_too_old": {
        "en": "Results have waited too long to be sent: this screening was not recorded. Connect the device to "
        "the network or call the technician.",
        "fr": "Des résultats attendent depuis trop longtemps d'être envoyés : ce dépistage n'a pas été enregistré. "
        "Connectez l'appareil au réseau ou appelez le technicien.",
    },
    # Both caps reached at once: too many results wait, the oldest past the age cap. Either alone told the
    # nurse who got some results sent, or the oldest one, that she had done enough, and she was refused again.
    "records.outbox_full_and_too_old": {
        "en": "Too many results are waiting to be sent, and some have waited too long: this screening was not "
        "recorded. Connect the device to the network or call the technician.",
        "fr": "Trop de résultats attendent d'être envoyés, et certains depuis trop longtemps : ce dépistage n'a "
        "pas été enregistré. Connectez l'appareil au réseau ou appelez le technicien.",
    },
    # What ``records.outbox_full``, ``.outbox_too_old`` and ``.outbox_full_and_too_old`` refused by
    # (records.store.OutboxFull): how many wait and the cap they reached; the age cap named, never when the
    # oldest was queued (a date this boot's clock may have got wrong).
    "records.outbox_full.too_many.one": {
        "en": "{count} result is waiting to be sent (cap {cap}): new screenings are refused until it is sent",
        "fr": "{count} résultat attend d'être envoyé (plafond {cap}) : les nouveaux dépistages sont refusés "
        "jusqu'à son envoi",
    },
    "records.outbox_full.too_many.other": {
        "en": "{count} results are waiting to be sent (cap {cap}): new screenings are refused until they are sent",
        "fr": "{count} résultats attendent d'être envoyés (plafond {cap}) : les nouveaux dépistages sont refusés "
        "jusqu'à leur envoi",
    },
    "records.outbox_full.too_old.one": {
        "en": "{count} result is waiting to be sent (cap {cap}), for longer than allowed (cap {days} days): new "
        "screenings are refused until it is sent",
        "fr": "{count} résultat attend d'être envoyé (plafond {cap}), depuis plus longtemps que permis (plafond "
        "{days} jours) : les nouveaux dépistages sont refusés jusqu'à son envoi",
    },
    "records.outbox_full.too_old.other": {
        "en": "{count} results are waiting to be sent (cap {cap}), the oldest for longer than allowed (cap {days} "
        "days): new screenings are refused until they are sent",
        "fr": "{count} résultats attendent d'être envoyés (plafond {cap}), le plus ancien depuis plus longtemps que "
        "permis (plafond {days} jours) : les nouveaux dépistages sont refusés jusqu'à leur envoi",
    },
    "records.refused": {
        "en": "This screening could not be recorded. Call the technician.",
        "fr": "Ce dépistage n'a pas pu être enregistré. Appelez le technicien.",
    },
    # The touchscreen app (firmware_app/web/): one key per sentence or label the nurse reads.
    "app.name": {"en": "EdgeScreen", "fr": "EdgeScreen"},
    "app.switch_language": {"en": "Français", "fr": "English"},
    "app.sign_out": {"en": "Sign out", "fr": "Déconnexion"},
    "app.lock": {"en": "Lock", "fr": "Verrouiller"},
    "app.nav.ready": {"en": "Checks", "fr": "Contrôles"},
    "app.nav.patient": {"en": "New patient", "fr": "Nouveau patient"},
    # In New patient's place while the last checks held a red one: they run again at a tap, the action
    # named as the Ready page's own button names it (ready.recheck).
    "app.nav.blocked": {"en": "Blocked: check again", "fr": "Bloqué : revérifier"},
    "app.nav.today": {"en": "Today", "fr": "Aujourd'hui"},
    "app.nav.records": {"en": "Records", "fr": "Dossiers"},
    "app.back": {"en": "Back", "fr": "Retour"},
    "device.out_of_memory": {
        "en": "The device ran out of memory: this screening was not recorded. Restart the device, then try again.",
        "fr": "L'appareil manque de mémoire : ce dépistage n'a pas été enregistré. Redémarrez l'appareil, puis "
        "réessayez.",
    },
    "app.error": {
        "en": "Something went wrong. Try again; if it happens again, call the technician.",
        "fr": "Un problème est survenu. Réessayez ; si cela se reproduit, appelez le technicien.",
    },
    "app.form_expired": {
        "en": "This page had expired: nothing was done. Please try again.",
        "fr": "Cette page avait expiré : rien n'a été fait. Veuillez réessayer.",
    },
    "app.form_too_large": {
        "en": "This request was far larger than any form of this app: nothing was done. Please try again.",
        "fr": "Cette requête était bien plus grande que tout formulaire de l'application : rien n'a été fait. "
        "Veuillez réessayer.",
    },
    # {what}: what happened to the camera (``camera.*``).
    "app.camera_failed": {
        "en": "The camera is not working: {what}. Check its cable, then try again; if it goes on, call the technician.",
        "fr": "La caméra ne fonctionne pas : {what}. Vérifiez son câble, puis réessayez ; si cela continue, "
        "appelez le technicien.",
    },
    "app.camera_not_set_up": {
        "en": "The camera is not set up right on this device. Call the technician: the device's log says what "
        "to change.",
        "fr": "La caméra n'est pas configurée correctement sur cet appareil. Appelez le technicien : le journal "
        "de l'appareil indique ce qu'il faut changer.",
    },
    "app.not_found": {"en": "This page does not exist.", "fr": "Cette page n'existe pas."},
    # A request of the screen that got no answer (app.js, sayNoAnswer): the app restarting, a dropped
    # connection, a timeout. What a request that records says instead is its own (``check.no_answer``).
    "app.no_answer": {
        "en": "The device did not answer: nothing was recorded. Wait a moment, then tap Try again.",
        "fr": "L'appareil n'a pas répondu : rien n'a été enregistré. Attendez un instant, puis touchez Réessayer.",
    },
    "app.form_only": {
        "en": "This screen opens from its button only, not from its address.",
        "fr": "Cet écran s'ouvre seulement par son bouton, pas par son adresse.",
    },
    "status.online": {"en": "Online", "fr": "En ligne"},
    "status.offline": {"en": "Offline", "fr": "Hors ligne"},
    "status.backlog": {"en": "{count} to send", "fr": "{count} à envoyer"},
    "status.disk": {"en": "{free} GB free", "fr": "{free} Go libres"},
    # The capture screen's line for a camera that failed; {what}: what happened (``camera.*``).
    "banner.camera_lost": {
        "en": "The camera is not working: {what}. Check its cable, then tap Retry.",
        "fr": "La caméra ne fonctionne pas : {what}. Vérifiez son câble, puis touchez Réessayer.",
    },
    # The call-back banner: a specialist's verdict asks for what the device did not (a referral or a
    # retake of a patient it cleared, an urgent or "soon" referral, a referral of a photo it could not
    # grade, no referral of a patient it referred or of a photo it could not grade: records/verdicts.py).
    # Two lines of the 800x480 top bar at most, as every banner, with the urgent count (French asks to
    # "rappeler" them: "contacter ... pour les rappeler" ran to three).
    "status.call_back.one": {
        "en": "A specialist asks you to contact a patient: open the record to call them back.",
        "fr": "Un spécialiste vous demande de rappeler un patient : ouvrez son dossier.",
    },
    "status.call_back.other": {
        "en": "Specialists ask you to contact {count} patients: open their records to call them back.",
        "fr": "Des spécialistes vous demandent de rappeler {count} patients : ouvrez leurs dossiers.",
    },
    # After it, when some are urgent: the one patient, or how many of them (never "Urgent." for 1 of 3).
    "status.call_back_urgent": {"en": "Urgent.", "fr": "Urgent."},
    "status.call_back_urgent_of.one": {"en": "{count} urgent.", "fr": "Dont {count} urgent."},
    "status.call_back_urgent_of.other": {"en": "{count} urgent.", "fr": "Dont {count} urgents."},
    # The camera's banners, short to fit beside the counts (the capture screen and the checks say it in full).
    "status.camera_lost": {
        "en": "The camera stopped answering: check its cable.",
        "fr": "La caméra ne répond plus : vérifiez son câble.",
    },
    "status.camera_not_set_up": {
        "en": "The camera is not set up right: call the technician.",
        "fr": "Caméra mal configurée : appelez le technicien.",
    },
    # Beside any other banner: never hidden (a camera set up wrong may wait days for the technician).
    "status.call_back_count": {"en": "Call back: {count}", "fr": "À rappeler : {count}"},
    "status.call_back_count_urgent.one": {"en": "{count} urgent", "fr": "dont {count} urgent"},
    "status.call_back_count_urgent.other": {"en": "{count} urgent", "fr": "dont {count} urgents"},
    "banner.retry": {"en": "Retry", "fr": "Réessayer"},
    # How long the oldest unsent result has waited: kept in the records, so it survives a restart.
    "banner.offline": {
        "en": "The site server is unreachable: results have waited on this device for {duration}. Check the network.",
        "fr": "Serveur injoignable : des résultats attendent ici depuis {duration}. Vérifiez le réseau.",
    },
    # Nothing waiting, or nothing dated by a clock that can be believed (records/clock.py).
    "banner.offline_undated": {
        "en": "The site server is unreachable: results wait on this device. Check the network.",
        "fr": "Serveur injoignable : les résultats attendent sur l'appareil. Vérifiez le réseau.",
    },
    "signin.title": {"en": "Sign in", "fr": "Connexion"},
    "signin.who": {"en": "Who is screening?", "fr": "Qui fait le dépistage ?"},
    "signin.pin": {"en": "PIN", "fr": "Code"},
    "signin.submit": {"en": "Sign in", "fr": "Se connecter"},
    "signin.unlock": {"en": "Unlock", "fr": "Déverrouiller"},
    "signin.wrong": {"en": "Wrong PIN: try again.", "fr": "Code incorrect : réessayez."},
    # Signing in with no name tapped or no PIN typed: said by the app, in the nurse's language (the
    # browser's own "Please select one of these options." came in its language, English on a French
    # screen), and never counted as a wrong PIN.
    "signin.choose": {"en": "Tap your name first.", "fr": "Touchez d'abord votre nom."},
    "signin.pin_needed": {"en": "Type your PIN first.", "fr": "Tapez d'abord votre code."},
    # Any refusal of a sign-in from the network (a name that does not exist, a wrong PIN, a lock there):
    # one sentence, so that nobody on the network learns which names exist (pages_session.signin).
    "signin.refused_remote": {
        "en": "Wrong name or PIN, or too many wrong PINs from the network: try again later, "
        "or sign in on the device's own screen.",
        "fr": "Nom ou code incorrect, ou trop de codes incorrects depuis le réseau : réessayez plus tard, "
        "ou connectez-vous sur l'écran de l'appareil lui-même.",
    },
    # The same refusal at a locked screen of a tablet, where the name is fixed and only the PIN typed:
    # a wrong PIN and a lock still read the same, and the name, already on the screen, is not doubted.
    "signin.refused_remote_pin": {
        "en": "Wrong PIN, or too many wrong PINs from the network: try again later, "
        "or sign in on the device's own screen.",
        "fr": "Code incorrect, ou trop de codes incorrects depuis le réseau : réessayez plus tard, "
        "ou connectez-vous sur l'écran de l'appareil lui-même.",
    },
    # A client on the network past the limit on sign-in attempts from one address (web/sign_in_limit):
    # refused before its name or PIN is looked at, so it says nothing of either.
    "signin.limited_remote": {
        "en": "Too many sign-in attempts from this tablet or browser: try again in {wait}, "
        "or sign in on the device's own screen.",
        "fr": "Trop de tentatives de connexion depuis cette tablette ou ce navigateur : réessayez dans {wait}, "
        "ou connectez-vous sur l'écran de l'appareil lui-même.",
    },
    "signin.locked": {
        "en": (
            "Too many wrong PINs. {name}'s account is locked: try again in {wait}, or ask the technician to unlock it."
        ),
        "fr": (
            "Trop de codes incorrects. Le compte {of_name} est bloqué : réessayez dans {wait}, "
            "ou demandez au technicien de le débloquer."
        ),
    },
    # A space that never breaks between a number and its unit: "1" never ends a line without "minute".
    "time.under_a_minute": {"en": "less than a minute", "fr": "moins d'une minute"},
    "time.minutes.one": {"en": "{count}\u00a0minute", "fr": "{count}\u00a0minute"},
    "time.minutes.other": {"en": "{count}\u00a0minutes", "fr": "{count}\u00a0minutes"},
    "time.hours.one": {"en": "{count}\u00a0hour", "fr": "{count}\u00a0heure"},
    "time.hours.other": {"en": "{count}\u00a0hours", "fr": "{count}\u00a0heures"},
    "time.days.one": {"en": "{count}\u00a0day", "fr": "{count}\u00a0jour"},
    "time.days.other": {"en": "{count}\u00a0days", "fr": "{count}\u00a0jours"},
    # How long ago something was done, in whole days (``wording.days_ago``).
    "time.today": {"en": "today", "fr": "aujourd'hui"},
    "time.yesterday": {"en": "yesterday", "fr": "hier"},
    "time.days_ago": {"en": "{count}\u00a0days ago", "fr": "il y a {count}\u00a0jours"},
    "signin.no_operators": {
        "en": "No operator accounts yet: the technician adds them with “edgescreen operators add NAME”.",
        "fr": "Aucun compte opérateur : le technicien les crée avec « edgescreen operators add NOM ».",
    },
    # Accounts exist, all disabled: none can be enabled again, nor its name added twice (operators_cli).
    "signin.all_disabled": {
        "en": "Every operator account is disabled: the technician adds one, under a new name, with "
        "“edgescreen operators add NAME”.",
        "fr": "Tous les comptes opérateur sont désactivés : le technicien en crée un, sous un nouveau nom, avec "
        "« edgescreen operators add NOM ».",
    },
    "setup.title": {
        "en": "First start: who will use this device?",
        "fr": "Premier démarrage : qui utilisera l'appareil ?",
    },
    "setup.explain": {
        "en": "Nobody can sign in yet. Create the first operator: a name, then a PIN typed twice. "
        "Others are added by the technician with “edgescreen operators add NAME”.",
        "fr": "Personne ne peut encore se connecter. Créez le premier opérateur : un nom, puis un code tapé deux fois. "
        "Le technicien ajoute les autres avec « edgescreen operators add NOM ».",
    },
    "setup.name": {"en": "Name", "fr": "Nom"},
    "setup.name_needed": {"en": "Type your name first.", "fr": "Tapez d'abord votre nom."},
    "setup.pin": {"en": "PIN ({fewest} to {most} digits)", "fr": "Code ({fewest} à {most} chiffres)"},
    "setup.pin_again": {"en": "The same PIN again", "fr": "Le même code à nouveau"},
    "setup.create": {"en": "Create and sign in", "fr": "Créer et se connecter"},
    "setup.mismatch": {
        "en": "The two PINs differ: type the PIN again.",
        "fr": "Les deux codes diffèrent : retapez le code.",
    },
    "setup.closed": {
        "en": "This device has an operator already: sign in, or ask the technician to add you.",
        "fr": "Cet appareil a déjà un opérateur : connectez-vous, ou demandez au technicien de vous ajouter.",
    },
    "setup.on_device_only": {
        "en": "The first operator is created on the device's own screen, or by the technician "
        "(edgescreen operators add).",
        "fr": "Le premier opérateur se crée sur l'écran de l'appareil lui-même, ou par le technicien "
        "(edgescreen operators add).",
    },
    "operators.refused": {"en": "The operator could not be created.", "fr": "L'opérateur n'a pas pu être créé."},
    # {most}: operators.MAX_NAME, the longest name the check takes.
    "operators.bad_name": {
        "en": "A name has 1 to {most} letters, digits, spaces, dots, apostrophes or dashes.",
        "fr": "Un nom a 1 à {most} lettres, chiffres, espaces, points, apostrophes ou tirets.",
    },
    "operators.bad_pin": {"en": "A PIN has {fewest} to {most} digits.", "fr": "Un code a {fewest} à {most} chiffres."},
    "operators.exists": {"en": "An operator has this name already.", "fr": "Un opérateur porte déjà ce nom."},
    # No operator by the name given (``edgescreen operators disable|unlock``, operators.py).
    "operators.unknown": {
        "en": "No operator has this name: `edgescreen operators list` shows them.",
        "fr": "Aucun opérateur ne porte ce nom : `edgescreen operators list` les montre.",
    },
    # ``edgescreen operators`` at the technician's terminal (operators_cli.py): a prompt is a field's
    # label (``setup.pin``, ``setup.pin_again``) and its colon.
    "operators.prompt": {"en": "{field}: ", "fr": "{field} : "},
    "operators.pins_differ": {
        "en": "the two PINs differ; nothing was changed",
        "fr": "les deux codes diffèrent ; rien n'a été changé",
    },
    "operators.done.add": {"en": "operator {name}: added", "fr": "opérateur {name} : ajouté"},
    "operators.done.disable": {"en": "operator {name}: disabled", "fr": "opérateur {name} : désactivé"},
    "operators.done.unlock": {"en": "operator {name}: unlocked", "fr": "opérateur {name} : débloqué"},
    # ``operators list`` with no operator: said on stderr, so that a script reading stdout still gets one
    # line per operator (none).
    "operators.none": {
        "en": "No operator yet: add one with `edgescreen operators add NAME`.",
        "fr": "Aucun opérateur pour l'instant : ajoutez-en un avec `edgescreen operators add NOM`.",
    },
    "operators.enabled": {"en": "enabled", "fr": "actif"},
    "operators.disabled": {"en": "disabled", "fr": "désactivé"},
    # ``operators list``'s last two columns (operators_cli.py): the lock on sign-in at the device, then
    # from the network; {when}: its end, in the device's local time (``wording.readable_date``).
    "operators.device_open": {"en": "device sign-in: not locked", "fr": "connexion sur l'appareil : non bloquée"},
    "operators.device_locked": {
        "en": "device sign-in: locked until {when}",
        "fr": "connexion sur l'appareil : bloquée jusqu'au {when}",
    },
    "operators.network_open": {
        "en": "network sign-in: not locked",
        "fr": "connexion depuis le réseau : non bloquée",
    },
    "operators.network_locked": {
        "en": "network sign-in: locked until {when}",
        "fr": "connexion depuis le réseau : bloquée jusqu'au {when}",
    },
    "signin.screen_locked": {
        "en": "The screen locked after {minutes} min without use: {name}, enter your PIN.",
        "fr": "L'écran s'est verrouillé après {minutes} min sans activité : {name}, entrez votre code.",
    },
    "signin.locked_by_hand": {
        "en": "The screen is locked: {name}, enter your PIN.",
        "fr": "L'écran est verrouillé : {name}, entrez votre code.",
    },
    "signin.not_you": {"en": "Not {name}? Sign out", "fr": "Vous n'êtes pas {name} ? Se déconnecter"},
    # A cookie whose session the app no longer holds (web/sessions.py, ``forgotten``): the screen and the
    # visit in progress went with it. Today named only when it lists an eye of a visit lost so
    # (pages_session.lost_on_today); else the plain line: a visit lost before any photo, or a skin
    # visit, lists nothing there, and "look at Today" sent the nurse looking for what was not there.
    "signin.signed_out": {
        "en": "Signed out: the app restarted, or this screen sat unused for {hours}\u00a0hours; what was on it is "
        "lost. A visit cut short left an eye not photographed: look at Today before going on.",
        "fr": "Déconnexion : l'application a redémarré, ou cet écran est resté inutilisé {hours}\u00a0heures ; son "
        "contenu est perdu. Une visite interrompue a laissé un œil non photographié : regardez Aujourd'hui avant "
        "de continuer.",
    },
    "signin.signed_out_not_kept": {
        "en": "Signed out: the app restarted, or this screen sat unused for {hours}\u00a0hours; what was on it is "
        "lost. If a patient was being screened, start again (the photos already used are kept).",
        "fr": "Déconnexion : l'application a redémarré, ou cet écran est resté inutilisé {hours}\u00a0heures ; son "
        "contenu est perdu. Si un dépistage était en cours, recommencez-le (les photos déjà utilisées sont gardées).",
    },
    "keypad.clear": {"en": "Clear", "fr": "Vider"},
    "keypad.delete": {"en": "Delete", "fr": "Suppr."},
    "keypad.space": {"en": "Space", "fr": "Espace"},
    "ready.title": {"en": "Ready to screen?", "fr": "Prêt pour le dépistage ?"},
    "ready.blocked": {
        "en": "Screening is blocked until the red items are fixed.",
        "fr": "Le dépistage est bloqué tant que les points rouges ne sont pas réglés.",
    },
    "ready.ok": {"en": "Ready: you can screen.", "fr": "Prêt : vous pouvez dépister."},
    # Under the verdict, on the first screen, when the list of checks runs past the screen's foot (every
    # check red or amber in its longest words takes several screens, each read whole by the technician).
    "ready.problems.one": {
        "en": "{count} check below needs seeing to.",
        "fr": "{count} contrôle ci-dessous demande votre attention.",
    },
    "ready.problems.other": {
        "en": "{count} checks below need seeing to: read the list to its end.",
        "fr": "{count} contrôles ci-dessous demandent votre attention : lisez la liste jusqu'au bout.",
    },
    "ready.recheck": {"en": "Check again", "fr": "Revérifier"},
    "ready.start": {"en": "Start screening", "fr": "Commencer le dépistage"},
    # A visit left for the checks (the nav bar, a red check since fixed): "/" resumes it where it was.
    "ready.resume": {"en": "Back to the patient in progress", "fr": "Reprendre le patient en cours"},
    # "New patient" while a visit is open (templates/leave_visit.html): what finishing it does first.
    "leave.question": {
        "en": "A patient is in progress. Starting a new patient finishes this one first:",
        "fr": "Un patient est en cours. Commencer un nouveau patient termine d'abord celui-ci :",
    },
    "leave.photo_waiting": {
        "en": "The photo waiting to be checked is not used.",
        "fr": "La photo en attente de vérification n'est pas utilisée.",
    },
    "leave.not_photographed": {
        "en": "{eye}: listed as not photographed yet, to call back, as “Finish anyway” does.",
        "fr": "{eye} : inscrit comme pas encore photographié, à rappeler, comme avec « Terminer quand même ».",
    },
    # The same of an eye whose result the review station erased (``Visit.forget``): one line says both,
    # where "result.erased" then this one named the eye twice.
    "leave.erased_not_photographed": {
        "en": "{eye}: the review station erased its result; listed as not photographed yet, to call back, as "
        "“Finish anyway” does.",
        "fr": "{eye} : le poste de relecture a supprimé son résultat ; inscrit comme pas encore photographié, à "
        "rappeler, comme avec « Terminer quand même ».",
    },
    # A fundus visit that has recorded no result yet: Today lists no call-back that would open nobody
    # (``worklist._not_photographed``), so no eye is promised one.
    "leave.nothing_recorded": {
        "en": "No photo of this patient was used: nothing is recorded, and nothing goes on Today to call back.",
        "fr": "Aucune photo de ce patient n'a été utilisée : rien n'est enregistré, et rien n'est inscrit dans "
        "Aujourd'hui à rappeler.",
    },
    "leave.lesion_not_photographed": {
        "en": "No photo of this lesion was used: nothing is recorded for it.",
        "fr": "Aucune photo de cette lésion n'a été utilisée : rien n'est enregistré pour elle.",
    },
    "leave.results_kept": {
        "en": "The results already recorded are kept.",
        "fr": "Les résultats déjà enregistrés sont conservés.",
    },
    # The review station erased a result of the visit (said per slot, "result.erased"): the others kept,
    # or, with none left, nothing names the patient on Today (``worklist._not_photographed``), so nobody
    # calls them back for it: now, with the patient still there, is when to photograph them again.
    "leave.other_results_kept": {
        "en": "The other results already recorded are kept.",
        "fr": "Les autres résultats déjà enregistrés sont conservés.",
    },
    "leave.nothing_kept": {
        "en": "No result of this visit is kept: nothing goes on Today to call the patient back. Go back to the "
        "patient and photograph them again now, if you can.",
        "fr": "Aucun résultat de la visite n'est gardé : rien n'est inscrit dans Aujourd'hui pour rappeler le "
        "patient. Reprenez-le et photographiez-le de nouveau maintenant, si vous le pouvez.",
    },
    "leave.lesion_nothing_kept": {
        "en": "No result of this lesion is kept: go back to the patient and photograph it again now, if you can.",
        "fr": "Aucun résultat de cette lésion n'est gardé : reprenez le patient et photographiez-la de nouveau "
        "maintenant, si vous le pouvez.",
    },
    "leave.start": {"en": "Finish it and start a new patient", "fr": "Le terminer et commencer un nouveau patient"},
    # "Sign out" while a visit is open (the same question): the visit is closed as not finished, which
    # Today says (result.heading.visit_not_finished); "Back to the patient in progress" the default.
    "leave.signout_question": {
        "en": "A patient is in progress. Signing out leaves this visit not finished:",
        "fr": "Un patient est en cours. La déconnexion laisse cette visite non terminée :",
    },
    "leave.signout_not_photographed": {
        "en": "{eye}: listed on Today as a visit not finished, to call back.",
        "fr": "{eye} : inscrit dans Aujourd'hui comme visite non terminée, à rappeler.",
    },
    "leave.signout_erased_not_photographed": {
        "en": "{eye}: the review station erased its result; listed on Today as a visit not finished, to call back.",
        "fr": "{eye} : le poste de relecture a supprimé son résultat ; inscrit dans Aujourd'hui comme visite non "
        "terminée, à rappeler.",
    },
    "leave.sign_out": {"en": "Sign out anyway", "fr": "Se déconnecter quand même"},
    "level.green": {"en": "OK", "fr": "OK"},
    "level.amber": {"en": "Warning", "fr": "Attention"},
    "level.red": {"en": "Blocking", "fr": "Bloquant"},
    "models.signed": {"en": "signed", "fr": "signé"},
    "models.unsigned": {"en": "unsigned", "fr": "non signé"},
    "health.models.green": {"en": "Models verified: {models}.", "fr": "Modèles vérifiés : {models}."},
    # A model refused (health/checks.py, _model_failure): each kind its remedy; the model's own words
    # (which folder, what disagrees) are doctor's log line (doctor.models_failed) and --json's values.
    "health.models.red": {
        "en": "A model cannot be loaded. Call the technician to reinstall it (edgescreen doctor logs which one and "
        "why).",
        "fr": "Un modèle ne peut pas être chargé. Appelez le technicien pour le réinstaller (le journal "
        "d'edgescreen doctor dit lequel et pourquoi).",
    },
    # A model that loaded failed while running on the photo (inference/errors.py, ModelRunFailed): on the
    # app's error page after "Use this photo" (its Back returns to the photo, still waiting to be used), and
    # where a command stops.
    "health.models.failed": {
        "en": "A model failed while reading the photo: nothing is recorded. Use the photo again; if it fails "
        "again, call the technician (the log says which model and why).",
        "fr": "Un modèle a échoué en lisant la photo : rien n'est enregistré. Utilisez à nouveau la photo ; si "
        "l'échec se répète, appelez le technicien (le journal dit quel modèle et pourquoi).",
    },
    # No TFLite runtime installed, or none loads (inference/interpreter.py, RuntimeMissing): no model runs.
    "health.models.runtime": {
        "en": "No model can run: this device's TFLite runtime is missing or does not load. Call the technician "
        "(the log says which runtime and why).",
        "fr": "Aucun modèle ne peut fonctionner : le moteur TFLite de l'appareil est absent ou ne se charge pas. "
        "Appelez le technicien (le journal dit quel moteur et pourquoi).",
    },
    "health.models.keys": {
        "en": "No model can be verified: the trusted keys ([models] trusted_keys) cannot be read. Call the "
        "technician to put back the folder's public keys, each whole (scripts/install-device copies them; "
        "edgescreen doctor logs which file and why).",
        "fr": "Aucun modèle ne peut être vérifié : les clés de confiance ([models] trusted_keys) ne peuvent pas "
        "être lues. Appelez le technicien pour remettre les clés publiques du dossier, chacune entière "
        "(scripts/install-device les copie ; le journal d'edgescreen doctor dit quel fichier et pourquoi).",
    },
    "health.models.missing": {
        "en": "A configured model is not installed. Call the technician to install it (edgescreen models install) "
        "or to correct [models] in the configuration.",
        "fr": "Un modèle configuré n'est pas installé. Appelez le technicien pour l'installer (edgescreen models "
        "install) ou pour corriger [models] dans la configuration.",
    },
    # The active model's installed copy deleted whole (bundles/manifest.py, InstalledCopyGone).
    "health.models.gone": {
        "en": "A model's installed copy is gone from this device. Call the technician to install its signed "
        "bundle again (edgescreen models install) or to return to the previous model (edgescreen models rollback).",
        "fr": "La copie installée d'un modèle a disparu de cet appareil. Appelez le technicien pour réinstaller "
        "son paquet signé (edgescreen models install) ou pour revenir au modèle précédent (edgescreen models "
        "rollback).",
    },
    "health.models.refused": {
        "en": "A model's bundle fails its check: it was changed, is damaged, or is not signed with a trusted key. "
        "Call the technician to install its signed bundle again (edgescreen models install).",
        "fr": "Le paquet d'un modèle ne passe pas sa vérification : il a été modifié, est endommagé ou n'est pas "
        "signé avec une clé de confiance. Appelez le technicien pour réinstaller son paquet signé (edgescreen "
        "models install).",
    },
    "health.models.wrong": {
        "en": "A model is configured for photos it was not made for. Call the technician to correct [models] in "
        "the configuration.",
        "fr": "Un modèle est configuré pour des photos auxquelles il n'est pas destiné. Appelez le technicien pour "
        "corriger [models] dans la configuration.",
    },
    "health.camera.green": {"en": "The camera answers.", "fr": "La caméra répond."},
    "health.camera.amber": {
        "en": "The camera is in use on another screen.",
        "fr": "La caméra est utilisée sur un autre écran.",
    },
    # {what}: what happened to the camera (``camera.*``); its own words (a path, a driver's) go to the log.
    "health.camera.red": {
        "en": "The camera is not working: {what}. Check its cable, then check again.",
        "fr": "La caméra ne fonctionne pas : {what}. Vérifiez son câble, puis vérifiez à nouveau.",
    },
    "health.camera.misconfigured": {
        "en": "The camera is not working: {what}. The technician checks [camera] in the configuration.",
        "fr": "La caméra ne fonctionne pas : {what}. Le technicien vérifie [camera] dans la configuration.",
    },
    "health.camera.lost": {
        "en": "The camera does not answer. Check its cable, then tap Check again.",
        "fr": "La caméra ne répond pas. Vérifiez son câble, puis touchez Revérifier.",
    },
    "health.calibration.green": {
        "en": "Calibration profile {id}, made {ago}.",
        "fr": "Profil d'étalonnage {id}, établi {ago}.",
    },
    "health.calibration.none": {
        "en": "No calibration profile: results will say uncalibrated. Ask the technician to calibrate.",
        "fr": "Aucun profil d'étalonnage : les résultats porteront la mention «\u00a0non étalonné\u00a0». Demandez "
        "un étalonnage au technicien.",
    },
    "health.calibration.undated": {
        "en": "Calibration profile {id}, made while the clock was not set: its age is unknown; "
        "ask the technician to recalibrate.",
        "fr": "Profil d'étalonnage {id}, établi quand l'horloge n'était pas réglée : son âge est inconnu ; "
        "demandez un nouvel étalonnage au technicien.",
    },
    "health.calibration.old": {
        "en": "Calibration profile {id} is {days} days old: ask the technician to recalibrate.",
        "fr": "Le profil d'étalonnage {id} a {days} jours : demandez un nouvel étalonnage au technicien.",
    },
    "health.calibration.changed": {
        "en": "The calibration profile was changed after the app started: it is not in use yet ({id}). "
        "Restart the device to use it.",
        "fr": "Le profil d'étalonnage a changé après le démarrage de l'application : il n'est pas encore "
        "appliqué ({id}). Redémarrez l'appareil pour l'utiliser.",
    },
    "health.calibration.other_device": {
        "en": "The calibration profile was made on device {made_on}, and this is {device}: another device's "
        "correction would change every photo. Call the technician to calibrate this device.",
        "fr": "Le profil d'étalonnage a été établi sur l'appareil {made_on}, et celui-ci est {device} : la "
        "correction d'un autre appareil modifierait chaque photo. Appelez le technicien pour étalonner cet appareil.",
    },
    "health.calibration.unnamed": {
        "en": "Calibration profile {id} does not say which device it was made on: it may be another's. "
        "Ask the technician to repeat one calibration step on this device.",
        "fr": "Le profil d'étalonnage {id} ne dit pas sur quel appareil il a été établi : il peut être celui "
        "d'un autre. Demandez au technicien de refaire une étape d'étalonnage sur cet appareil.",
    },
    # The profile's own words (its path, the field that is wrong) are doctor's log (doctor.calibration_failed).
    "health.calibration.red": {
        "en": "The calibration profile cannot be read: it is damaged, or not one this version reads. Call the "
        "technician to calibrate again (edgescreen calibrate).",
        "fr": "Le profil d'étalonnage est illisible : il est endommagé, ou d'un format que cette version ne lit "
        "pas. Appelez le technicien pour refaire l'étalonnage (edgescreen calibrate).",
    },
    "health.calibration.missing": {
        "en": "The calibration profile set in [calibration] profile is missing. Call the technician to put it back "
        "or to calibrate again (edgescreen calibrate).",
        "fr": "Le profil d'étalonnage indiqué dans [calibration] profile est absent. Appelez le technicien pour le "
        "remettre ou pour refaire l'étalonnage (edgescreen calibrate).",
    },
    "health.disk.green": {"en": "Storage: {free_gb} GB free.", "fr": "Stockage : {free_gb} Go libres."},
    "health.disk.amber": {
        "en": "Storage is getting low: {free_gb} GB free. Tell the technician soon: space must be freed.",
        "fr": "Le stockage diminue : {free_gb} Go libres. Prévenez bientôt le technicien : il faut libérer "
        "de la place.",
    },
    "health.disk.red": {
        "en": "Storage full: {free} MB free, not enough for one more screening and the {reserve} MB that must "
        "stay free. Call the technician to free space on the device.",
        "fr": "Stockage plein : {free} Mo libres, pas assez pour un dépistage de plus et les {reserve} Mo qui "
        "doivent rester libres. Appelez le technicien pour libérer de la place sur l'appareil.",
    },
    "health.records.green": {"en": "Records healthy.", "fr": "Dossiers en bon état."},
    "service.out.title": {"en": "This device cannot screen now", "fr": "Cet appareil ne peut pas dépister"},
    "service.out.records": {
        "en": "It cannot open its records, so screening is stopped. Call the technician: the command edgescreen "
        "doctor says what to do. The device tries again each time it restarts.",
        "fr": "Il ne peut pas ouvrir ses dossiers : le dépistage est arrêté. Appelez le technicien : la commande "
        "edgescreen doctor dit quoi faire. L'appareil réessaie à chaque redémarrage.",
    },
    "service.out.config": {
        "en": "Its settings cannot be read, so screening is stopped. Call the technician: the message below says "
        "what is wrong in the configuration file. The device tries again each time it restarts.",
        "fr": "Ses réglages ne peuvent pas être lus : le dépistage est arrêté. Appelez le technicien : le message "
        "ci-dessous dit ce qui ne va pas dans le fichier de configuration. L'appareil réessaie à chaque redémarrage.",
    },
    # A config file that does not load (cli.py), in the device's language or, when the file cannot say
    # it (config.config_error_languages), English then French; the problem in the technician's words.
    "config.error": {
        "en": "configuration error: {problem}",
        "fr": "erreur de configuration : {problem}",
    },
    # ``edgescreen app`` starting (web/run.py), on the technician's terminal or in the journal, in the device's
    # language (a config that does not load: config.config_error_languages); the system's own words ({error})
    # stay English.
    "app.open": {
        "en": "EdgeScreen app: open {address} (Ctrl-C stops it)",
        "fr": "Application EdgeScreen : ouvrez {address} (Ctrl-C l'arrête)",
    },
    "app.open_tablets": {
        "en": "Tablets: open {address} (HTTPS; install the site's CA on each tablet)",
        "fr": "Tablettes : ouvrez {address} (HTTPS ; installez l'autorité de certification du site sur chaque "
        "tablette)",
    },
    "app.no_operator_yet": {
        "en": "No operator yet: the app's first screen creates the first one.",
        "fr": "Aucun opérateur pour l'instant : le premier écran de l'application crée le premier.",
    },
    "app.no_operator_enabled": {
        "en": "No operator can sign in: add one with `edgescreen operators add NAME`.",
        "fr": "Aucun opérateur ne peut se connecter : ajoutez-en un avec `edgescreen operators add NOM`.",
    },
    "app.cannot_listen": {
        "en": "cannot listen on {address}: {error} (another program holds the port? [app] port or --port sets another)",
        "fr": "impossible d'écouter sur {address} : {error} (un autre programme tient-il le port ? [app] port ou "
        "--port en choisit un autre)",
    },
    # The tablets' HTTPS listener ended before it started (web/run.py), its TLS files read already: the
    # address it could not listen on, the system's words ({error}, English), and what sets them.
    # ``app --port`` given the port of the tablets' HTTPS listener ([app] tls_port), which the app takes too.
    "app.port_is_tablets": {
        "en": "--port {port} is the port of the tablets' HTTPS listener ([app] tls_port): give another port",
        "fr": "--port {port} est le port du serveur HTTPS des tablettes ([app] tls_port) : indiquez un autre port",
    },
    "app.tablets_failed": {
        "en": "the tablets' HTTPS listener ({address}) could not start: {error} (another program holds the port, "
        "or the address is not this machine's? [app] bind and tls_port set them)",
        "fr": "le serveur HTTPS des tablettes ({address}) n'a pas pu démarrer : {error} (un autre programme "
        "tient-il le port, ou l'adresse n'est-elle pas celle de cette machine ? [app] bind et tls_port les "
        "choisissent)",
    },
    "app.out_of_service": {
        "en": "serving the out-of-service page on {address}",
        "fr": "page « hors service » servie sur {address}",
    },
    "app.out_of_service_tablets": {
        "en": "serving the out-of-service page on {address} and, for tablets, on {tablets}",
        "fr": "page « hors service » servie sur {address} et, pour les tablettes, sur {tablets}",
    },
    # The heading above the problem's own words (out_of_service.html), which are the technician's
    # English: on a line of their own, as a path's "/" ran into the "/" that joined both languages.
    "service.out.problem": {"en": "For the technician", "fr": "Pour le technicien (en anglais)"},
    "health.records.red": {
        "en": "The records are damaged. Call the technician: the card is failing. Keep a copy of the "
        "records file as it is, then restore the last backup onto a new card (README, Backup and restore).",
        "fr": "Les dossiers sont endommagés. Appelez le technicien : la carte est défaillante. Gardez une "
        "copie du fichier des dossiers tel quel, puis restaurez la dernière sauvegarde sur une carte neuve "
        "(README, Backup and restore).",
    },
    "health.records.none": {
        "en": "No records yet at {path}: they are made with the first screening, or put back by a restore.",
        "fr": "Pas encore de dossiers dans {path} : ils sont créés au premier dépistage, ou remis par une "
        "restauration.",
    },
    "health.records.missing": {
        "en": "No records at {path}, yet their key is there: is the records drive mounted? If the records "
        "were lost, restore the last backup (README, Backup and restore) before screening.",
        "fr": "Aucun dossier dans {path}, alors que leur clé est là : le support des dossiers est-il monté ? "
        "S'ils ont été perdus, restaurez la dernière sauvegarde (README, Backup and restore) avant de dépister.",
    },
    # Records gone with their key (kept on their drive), the device's marker naming them (records/presence.py).
    "health.records.made_there": {
        "en": "No records at {path}, nor their key, yet records were made there ({marker} says so): is the "
        "records drive mounted? If the records were lost, put their key back and restore the last backup "
        "(README, Backup and restore) before screening.",
        "fr": "Aucun dossier dans {path}, ni leur clé, alors que des dossiers y ont été créés ({marker} le dit) : "
        "le support des dossiers est-il monté ? S'ils ont été perdus, remettez leur clé et restaurez la "
        "dernière sauvegarde (README, Backup and restore) avant de dépister.",
    },
    # No records at a path the config names, the device's marker naming its records elsewhere (records/presence.py).
    "health.records.elsewhere": {
        "en": "No records at {path}, yet this device made its records at {named} ({marker} says so): check "
        "[records] database in the config, or move the records and their key where it says, before screening. "
        "To start new records there on purpose, remove {marker}.",
        "fr": "Aucun dossier dans {path}, alors que cet appareil a créé ses dossiers dans {named} ({marker} le "
        "dit) : vérifiez [records] database dans la configuration, ou déplacez les dossiers et leur clé là où "
        "elle l'indique, avant de dépister. Pour y créer exprès de nouveaux dossiers, supprimez {marker}.",
    },
    # Records that do not open (health/checks.py, records_unusable); why, in English, is doctor's log line.
    "health.records.unusable": {
        "en": "The records cannot be opened. Call the technician: edgescreen doctor logs why (a folder or disk "
        "that cannot be written, a card that fails to read).",
        "fr": "Les dossiers ne peuvent pas être ouverts. Appelez le technicien : le journal d'edgescreen doctor "
        "dit pourquoi (un dossier ou un disque où l'on ne peut pas écrire, une carte qui n'arrive plus à lire).",
    },
    "health.records.full": {
        "en": "The records cannot be opened: the disk is full. Call the technician to free space on the device "
        "(nothing recorded so far is lost).",
        "fr": "Les dossiers ne peuvent pas être ouverts : le disque est plein. Appelez le technicien pour libérer "
        "de la place sur l'appareil (rien de ce qui est enregistré n'est perdu).",
    },
    # A full disk on which a process holds the records alone (health/checks.py, records_unusable), named as
    # the kernel lists it: an EdgeScreen service (the sync worker) shares them again once there is room.
    "health.records.held_alone_by_service": {
        "en": "The records cannot be opened: the disk is full, and the {unit} service (process {pid}) holds them "
        "alone until there is room. Call the technician to free space on the device (nothing recorded so far is "
        "lost).",
        "fr": "Les dossiers ne peuvent pas être ouverts : le disque est plein, et le service {unit} (processus "
        "{pid}) les garde pour lui seul jusqu'à ce qu'il y ait de la place. Appelez le technicien pour libérer de "
        "la place sur l'appareil (rien de ce qui est enregistré n'est perdu).",
    },
    "health.records.held_alone_by": {
        "en": "The records cannot be opened: the disk is full, and {program} (process {pid}) holds them alone. "
        "Call the technician to free space on the device, and to let that program finish or stop it (sudo kill "
        "{pid}); nothing recorded so far is lost.",
        "fr": "Les dossiers ne peuvent pas être ouverts : le disque est plein, et {program} (processus {pid}) les "
        "garde pour lui seul. Appelez le technicien pour libérer de la place sur l'appareil, et laisser finir ce "
        "programme ou l'arrêter (sudo kill {pid}) ; rien de ce qui est enregistré n'est perdu.",
    },
    "health.records.held_alone_by_another": {
        "en": "The records cannot be opened: the disk is full, and process {pid}, whose name cannot be read here, "
        "holds them alone. Call the technician to free space on the device: sudo ps -o user,args -p {pid} names "
        "that process (nothing recorded so far is lost).",
        "fr": "Les dossiers ne peuvent pas être ouverts : le disque est plein, et le processus {pid}, dont le nom "
        "ne peut pas être lu ici, les garde pour lui seul. Appelez le technicien pour libérer de la place sur "
        "l'appareil : sudo ps -o user,args -p {pid} nomme ce processus (rien de ce qui est enregistré n'est "
        "perdu).",
    },
    "health.audit.green": {
        "en": "Audit log intact ({events} events).",
        "fr": "Journal d'audit intact ({events} événements).",
    },
    "health.audit.red": {
        "en": "The audit log is broken at event {event}. Call the technician.",
        "fr": "Le journal d'audit est rompu à l'événement {event}. Appelez le technicien.",
    },
    "health.committed.green": {
        "en": "No saved screening is missing from the records.",
        "fr": "Aucun dépistage enregistré ne manque dans les dossiers.",
    },
    "health.committed.red": {
        "en": "Saved screenings missing from the records: {missing}, taken after {after} (the last on {until}). "
        "The storage card lost them: those patients may need screening again. Call the technician: back up "
        "what is left (edgescreen backup), replace the card, restore that backup onto the new one (README, "
        "Backup and restore). Only a backup taken after {until} still holds the missing ones.",
        "fr": "Dépistages enregistrés absents des dossiers : {missing}, faits après le {after} (le dernier le "
        "{until}). La carte mémoire les a perdus : ces patients devront peut-être être dépistés à nouveau. "
        "Appelez le technicien : sauvegarder ce qui reste (edgescreen backup), remplacer la carte, y restaurer "
        "cette sauvegarde (README, Backup and restore). Seule une sauvegarde faite après le {until} contient encore "
        "ceux qui manquent.",
    },
    "health.committed.all": {
        "en": "Saved screenings missing from the records: {missing}, every one taken until {until}. The storage "
        "card lost them: those patients may need screening again. Call the technician: replace the card and "
        "restore the last backup onto the new one (README, Backup and restore).",
        "fr": "Dépistages enregistrés absents des dossiers : {missing}, tous ceux faits jusqu'au {until}. La "
        "carte mémoire les a perdus : ces patients devront peut-être être dépistés à nouveau. Appelez le "
        "technicien : remplacer la carte et y restaurer la dernière sauvegarde (README, Backup and restore).",
    },
    "health.committed.changes": {
        "en": "The records lost changes already saved (after audit event {head}): a patient's erasure may be "
        "undone. Call the technician: back up what is left (edgescreen backup), replace the card, restore that "
        "backup onto the new one (README, Backup and restore), then erase again any patient erased lately.",
        "fr": "Les dossiers ont perdu des changements déjà enregistrés (après l'événement d'audit {head}) : "
        "l'effacement d'un patient a pu être annulé. Appelez le technicien : sauvegarder ce qui reste "
        "(edgescreen backup), remplacer la carte, y restaurer cette sauvegarde (README, Backup and restore), puis "
        "effacer à nouveau tout patient effacé récemment.",
    },
    "health.clock.green": {"en": "Clock: {now}.", "fr": "Horloge : {now}."},
    "health.clock.red": {
        "en": "The clock is wrong ({now}): set the date and time before screening.",
        "fr": "L'horloge est fausse ({now}) : réglez la date et l'heure avant de dépister.",
    },
    "health.clock.ahead": {
        "en": "Clock: {now}, set by network time. Screenings dated later than now: {count}. They were "
        "recorded while the clock ran fast: their times are wrong. Nothing to do.",
        "fr": "Horloge : {now}, réglée par le réseau. Examens datés après maintenant : {count}. Ils ont été "
        "enregistrés quand l'horloge avançait : leur heure est fausse. Rien à faire.",
    },
    "health.clock.unsynchronised": {
        "en": "Clock: {now}, not set by network time: old photos are not deleted, so the storage fills up. "
        "Ask the technician to set up a time server (NTP).",
        "fr": "Horloge : {now}, non réglée par le réseau : les anciennes photos ne sont pas supprimées et la "
        "mémoire se remplit. Demandez au technicien de configurer un serveur de temps (NTP).",
    },
    "health.broker.green": {"en": "The site server is reachable.", "fr": "Le serveur du site est joignable."},
    "health.broker.amber": {
        "en": "The site server is not reachable: results wait safely on this device.",
        "fr": "Le serveur du site est injoignable : les résultats attendent sur cet appareil.",
    },
    "health.broker.connecting": {
        "en": "Connecting to the site server: results wait safely on this device.",
        "fr": "Connexion au serveur du site en cours : les résultats attendent sur cet appareil.",
    },
    "health.broker.refused": {
        "en": "The site server refuses this device: results wait safely on this device. Tell the technician.",
        "fr": "Le serveur du site refuse cet appareil : les résultats attendent sur cet appareil. Prévenez le "
        "technicien.",
    },
    "health.broker.damaged": {
        "en": "Sending is stuck on damaged records: some results cannot be sent or marked as sent. Tell the "
        "technician: keep a copy of the records file, then restore the last backup onto a new card.",
        "fr": "L'envoi est bloqué par des dossiers endommagés : des résultats ne peuvent pas être envoyés ou "
        "marqués comme envoyés. Prévenez le technicien : gardez une copie du fichier des dossiers, puis restaurez "
        "la dernière sauvegarde sur une carte neuve.",
    },
    "health.broker.service": {
        "en": "The sending service is not running: results wait safely on this device. Tell the technician.",
        "fr": "Le service d'envoi est arrêté : les résultats attendent sur cet appareil. Prévenez le technicien.",
    },
    # Counted without "(s)": the checks' sentences take their values as they are.
    "health.backlog.green": {"en": "Results waiting to be sent: {count}.", "fr": "Résultats à envoyer : {count}."},
    "health.backlog.amber": {
        "en": "Results waiting: {count}, the oldest for {days} days. Check the network.",
        "fr": "Résultats en attente : {count}, le plus ancien depuis {days} jours. Vérifiez le réseau.",
    },
    # Undated: queued before the last restart on a clock not synchronised (records.store.QUEUED_AGE).
    "health.backlog.undated": {
        "en": "Results waiting: {count}, some queued before the last restart or update, on a clock that was not "
        "set: how long they have waited cannot be told. Check the network.",
        "fr": "Résultats en attente : {count}, dont certains mis en attente avant le dernier redémarrage ou la "
        "dernière mise à jour, sur une horloge non réglée : impossible de savoir depuis quand ils attendent. "
        "Vérifiez le réseau.",
    },
    # {requests}: the erasure requests the broker has not taken (records/erasure_outbox.py). A device that
    # can never reach its station again is wiped all the same, writing them out first (firmware_app/wipe.py).
    "health.backlog.erasures": {
        "en": "Results waiting to be sent: {count}. Patients' erasures still to reach the review station: "
        "{requests}. Check the network; the device must not be wiped (edgescreen wipe) before they are sent, "
        "unless it can no longer reach its station: then edgescreen wipe --unsent-erasures FILE (on a USB drive) "
        "writes them out first, for the station's administrator.",
        "fr": "Résultats à envoyer : {count}. Effacements de patients encore à transmettre au poste de relecture : "
        "{requests}. Vérifiez le réseau ; l'appareil ne doit pas être effacé (edgescreen wipe) avant leur envoi, "
        "sauf s'il ne peut plus joindre son poste : edgescreen wipe --unsent-erasures FICHIER (sur une clé USB) "
        "les écrit alors d'abord, pour l'administrateur du poste.",
    },
    # {requests} as above, which the site broker refuses (its ACL older than the erasure topic: sync/worker.py).
    "health.backlog.erasures_refused": {
        "en": "Results waiting to be sent: {count}. Patients' erasures the site server refuses, still to reach the "
        "review station: {requests}. Tell the technician to install this release's broker/acl on the site server; "
        "the device must not be wiped (edgescreen wipe) before they are sent, unless it can no longer reach its "
        "station: then edgescreen wipe --unsent-erasures FILE (on a USB drive) writes them out first, for the "
        "station's administrator.",
        "fr": "Résultats à envoyer : {count}. Effacements de patients refusés par le serveur du site, encore à "
        "transmettre au poste de relecture : {requests}. Demandez au technicien qu'il installe le broker/acl de "
        "cette version sur le serveur du site ; l'appareil ne doit pas être effacé (edgescreen wipe) avant leur "
        "envoi, sauf s'il ne peut plus joindre son poste : edgescreen wipe --unsent-erasures FICHIER (sur une clé "
        "USB) les écrit alors d'abord, pour l'administrateur du poste.",
    },
    # {withheld}: erasure requests altered on the card (records/outbox.py erasure_fault), never sent; the
    # ids each erasure recorded as held at the station are in its audit event, for the station's fallback.
    "health.backlog.erasures_withheld": {
        "en": "Results waiting to be sent: {count}. Patients' erasures withheld as altered on this device, never "
        "to be sent to the review station: {withheld}; call the technician, for the station's administrator to "
        "erase their results (edgescreen audit list --kind erasure names them).",
        "fr": "Résultats à envoyer : {count}. Effacements de patients retenus car modifiés sur cet appareil, jamais "
        "transmis au poste de relecture : {withheld} ; appelez le technicien, pour que l'administrateur du poste "
        "efface leurs résultats (edgescreen audit list --kind erasure les nomme).",
    },
    # {count}: results [sync] overflow_policy = "drop_oldest" deleted unsent since a technician last ran
    # ``edgescreen sync acknowledge-dropped`` (records/outbox.py); {waiting}: the results still to be sent.
    "health.backlog.dropped.one": {
        "en": "{count} result was deleted unsent (the outbox's cap, overflow_policy drop_oldest): no specialist "
        'will see it ("Never sent" on Today). Results waiting to be sent: {waiting}. Tell the technician: make the '
        'site server reachable, or set a larger [sync] outbox_max_rows (README, "Configuration"), then run '
        "edgescreen sync acknowledge-dropped.",
        "fr": "{count} résultat a été supprimé sans être envoyé (plafond de la file d'envoi, overflow_policy "
        "drop_oldest) : aucun spécialiste ne le verra (« Jamais envoyé » dans les dépistages du jour). Résultats à "
        "envoyer : {waiting}. Prévenez le technicien : rendez le serveur du site joignable, ou augmentez [sync] "
        "outbox_max_rows (README, « Configuration »), puis lancez edgescreen sync acknowledge-dropped.",
    },
    "health.backlog.dropped.other": {
        "en": "{count} results were deleted unsent (the outbox's cap, overflow_policy drop_oldest): no specialist "
        'will see them ("Never sent" on Today). Results waiting to be sent: {waiting}. Tell the technician: make '
        'the site server reachable, or set a larger [sync] outbox_max_rows (README, "Configuration"), then run '
        "edgescreen sync acknowledge-dropped.",
        "fr": "{count} résultats ont été supprimés sans être envoyés (plafond de la file d'envoi, overflow_policy "
        "drop_oldest) : aucun spécialiste ne les verra (« Jamais envoyé » dans les dépistages du jour). Résultats "
        "à envoyer : {waiting}. Prévenez le technicien : rendez le serveur du site joignable, ou augmentez [sync] "
        "outbox_max_rows (README, « Configuration »), puis lancez edgescreen sync acknowledge-dropped.",
    },
    "health.backlog.red": {
        "en": "Results waiting: {count}, and the outbox is almost full. Connect the device to the network.",
        "fr": "Résultats en attente : {count}, et la file d'envoi est presque pleine. Connectez l'appareil au réseau.",
    },
    "health.backlog.too_old": {
        "en": "Results waiting: {count}, the oldest for more than {cap} days: new screenings cannot be recorded "
        "until they are sent. Connect the device to the network.",
        "fr": "Résultats en attente : {count}, le plus ancien depuis plus de {cap} jours : aucun nouveau dépistage "
        "ne peut être enregistré avant leur envoi. Connectez l'appareil au réseau.",
    },
    "health.backlog.dropping": {
        "en": "Results waiting: {count}, and the outbox is almost full: the oldest will be deleted without being "
        "sent. Connect the device to the network.",
        "fr": "Résultats en attente : {count}, et la file d'envoi est presque pleine : les plus anciens seront "
        "supprimés sans être envoyés. Connectez l'appareil au réseau.",
    },
    # ``{ago}``: "today", "yesterday", "3 days ago" (``wording.days_ago``), never "0 days ago".
    "health.backup.green": {
        "en": "Records backed up {ago}.",
        "fr": "Dossiers sauvegardés {ago}.",
    },
    "health.backup.amber": {
        "en": "The records were last backed up {ago}: ask the technician to back them up.",
        "fr": "Les dossiers ont été sauvegardés pour la dernière fois {ago} : demandez au technicien de les "
        "sauvegarder.",
    },
    "health.backup.never": {
        "en": "The records have never been backed up, and the first screening was {ago}: ask the "
        "technician to back them up.",
        "fr": "Les dossiers n'ont jamais été sauvegardés, et le premier dépistage a eu lieu {ago} : demandez "
        "au technicien de les sauvegarder.",
    },
    "health.backup.none": {
        "en": "Nothing to back up yet.",
        "fr": "Rien à sauvegarder pour l'instant.",
    },
    "health.backup.pending": {
        "en": "Not backed up yet; the first screening was {ago}.",
        "fr": "Pas encore de sauvegarde ; le premier dépistage a eu lieu {ago}.",
    },
    "health.backup.undated": {
        "en": "How long ago the records were backed up cannot be told: the device's clock was wrong when they "
        "were last backed up (or first recorded). Ask the technician to back them up.",
        "fr": "Impossible de savoir de quand date la sauvegarde des dossiers : l'horloge de l'appareil était "
        "fausse lors de leur dernière sauvegarde (ou de leur premier enregistrement). Demandez au technicien de "
        "les sauvegarder.",
    },
    "backup.too_large_for_fat": {
        "en": "{path}: the backup of these records is a file of {size} GB, and that drive is formatted FAT32 (as "
        "USB sticks are sold), which cannot hold a file of 4 GB or more. Nothing was copied. Back up to a stick "
        "formatted exFAT or ext4 (format it so on a computer first).",
        "fr": "{path} : la sauvegarde de ces dossiers est un fichier de {size} Go, et ce support est formaté en "
        "FAT32 (comme les clés USB vendues), qui ne peut contenir aucun fichier de 4 Go ou plus. Rien n'a été "
        "copié. Sauvegardez sur une clé formatée en exFAT ou ext4 (formatez-la ainsi sur un ordinateur avant).",
    },
    # After records that cannot be written (health.records.unusable, records_problem's read-only file,
    # folder or file system): why a backup, which only reads them, needs to write there.
    "backup.records_read_only": {
        "en": "A backup is a copy of the patients' data, so it is entered in the records' audit log before it "
        "counts, and that needs the records to be writable: check the permissions of the records file and its "
        "folder, and that their file system is mounted read-write, then back up again.",
        "fr": "Une sauvegarde est une copie des données des patients : elle est donc inscrite au journal d'audit "
        "des dossiers avant de compter, ce qui demande de pouvoir y écrire : vérifiez les droits du fichier des "
        "dossiers et de son dossier, et que leur système de fichiers est monté en lecture-écriture, puis "
        "sauvegardez à nouveau.",
    },
    # After the records' full disk (health.records.full, held_alone_*): why a backup to another drive needs room there.
    "backup.records_disk_full": {
        "en": "A backup is a copy of the patients' data, so it is entered in the records' audit log before it "
        "counts, and that needs a little space on the records' own disk too, whatever drive it is copied to: free "
        "some there (files that are not EdgeScreen's, or old system logs: journalctl --vacuum-size=50M), then back "
        "up again.",
        "fr": "Une sauvegarde est une copie des données des patients : elle est donc inscrite au journal d'audit "
        "des dossiers avant de compter, ce qui demande aussi un peu de place sur le disque des dossiers, quel que "
        "soit le support où elle est copiée : libérez-en là (des fichiers qui ne sont pas d'EdgeScreen, ou de "
        "vieux journaux système : journalctl --vacuum-size=50M), puis sauvegardez à nouveau.",
    },
    "backup.erasures_overtook": {
        "en": "{path}: not backed up: a patient was erased while each of {copies} copies was made, and a copy "
        "made before an erasure still holds that patient. Nothing was left on that drive. Back up again once "
        "no one is erasing patients.",
        "fr": "{path} : aucune sauvegarde : un patient a été supprimé pendant chacune des {copies} copies, et une "
        "copie faite avant une suppression contient encore ce patient. Rien n'a été laissé sur ce support. "
        "Sauvegardez à nouveau quand plus personne ne supprime de patients.",
    },
    # A command refused as asked (``RequestRefused.saying``; the log keeps the English): the nurse's and the
    # campaign lead's (records show, export, erase) and the technician's about the device's own records.
    "refused.no_result": {
        "en": "no screening with result id {result_id} on this device",
        "fr": "aucun dépistage avec l'identifiant de résultat {result_id} sur cet appareil",
    },
    # --patient given blank (erase, records export): no reference was typed, so none is looked for.
    "refused.patient_blank": {
        "en": "the patient reference (--patient) is blank: give it as it was typed on the device; nothing was done",
        "fr": "la référence patient (--patient) est vide : donnez-la telle qu'elle a été saisie sur l'appareil ; "
        "rien n'a été fait",
    },
    "refused.erase_no_patient": {
        "en": "no screening is recorded under the patient reference given (mistyped, or erased already): nothing "
        "was erased; check the reference as it was typed on the device",
        "fr": "aucun dépistage n'est enregistré sous la référence patient donnée (mal saisie, ou déjà supprimée) : "
        "rien n'a été supprimé ; vérifiez la référence telle qu'elle a été saisie sur l'appareil",
    },
    "refused.export_no_patient": {
        "en": "no screening is recorded under that patient reference (mistyped, or erased): nothing was "
        "exported; check the reference as it was typed on the device",
        "fr": "aucun dépistage n'est enregistré sous cette référence patient (mal saisie, ou supprimée) : rien "
        "n'a été exporté ; vérifiez la référence telle qu'elle a été saisie sur l'appareil",
    },
    "refused.export_one_or_patient": {
        "en": "name one result id, or one patient with --patient",
        "fr": "indiquez un identifiant de résultat, ou un patient avec --patient",
    },
    "refused.export_out_is_file": {
        "en": "{path}: is a file; --out names the folder to write the images to",
        "fr": "{path} : est un fichier ; --out indique le dossier où écrire les images",
    },
    "refused.export_file_exists": {
        "en": "{path}: already exists (a file or a link); an export never writes over one",
        "fr": "{path} : existe déjà (un fichier ou un lien) ; un export n'écrit jamais par-dessus",
    },
    "refused.output_disk_full": {
        "en": "{path}: the disk is full; free space on {folder} or use another drive",
        "fr": "{path} : le disque est plein ; libérez de la place sur {folder} ou utilisez un autre support",
    },
    "refused.output_unwritable": {
        "en": "{path}: cannot be written there ({reason}); check that the folder exists (the drive is mounted) "
        "and can be written",
        "fr": "{path} : ne peut pas être écrit là ({reason}) ; vérifiez que le dossier existe (le support est "
        "monté) et qu'on peut y écrire",
    },
    # Why the system refused to read or write a file (``system_reason``): the common reasons, each said
    # inside a sentence's brackets; English in the system's own words, which a technician may search for.
    "system.ENOSPC": {"en": "No space left on device", "fr": "plus de place sur le support"},
    "system.EACCES": {"en": "Permission denied", "fr": "permission refusée"},
    "system.EROFS": {"en": "Read-only file system", "fr": "support en lecture seule"},
    "system.ENOENT": {"en": "No such file or directory", "fr": "aucun fichier ni dossier de ce nom"},
    "system.ENOTDIR": {"en": "Not a directory", "fr": "un élément du chemin n'est pas un dossier"},
    "system.EIO": {"en": "Input/output error", "fr": "erreur de lecture ou d'écriture sur le support"},
    "system.EADDRINUSE": {"en": "Address already in use", "fr": "adresse déjà utilisée"},
    "system.EADDRNOTAVAIL": {
        "en": "Cannot assign requested address",
        "fr": "cette adresse n'est pas celle de l'appareil",
    },
    # ``backup --out`` a file that exists (or a link): a backup is written as a new file, never over one.
    "backup.out_exists": {
        "en": "{path}: already exists; a backup never overwrites a file: give a new file name",
        "fr": "{path} existe déjà ; une sauvegarde n'écrase jamais un fichier : indiquez un nouveau nom de fichier",
    },
    "refused.output_is_folder": {
        "en": "{path}: is a folder; --out names a new file in it, e.g. {example}",
        "fr": "{path} : est un dossier ; --out indique un nouveau fichier dans ce dossier, par exemple {example}",
    },
    "refused.no_records_yet": {
        "en": "{path}: no records yet (they are made when this device first records a screening); if it had "
        "some, check that their drive is mounted and [records] database in the config (`edgescreen doctor`), "
        "or put them back with `edgescreen restore`. Nothing was made there",
        "fr": "{path} : pas encore de dossiers (ils sont créés au premier dépistage enregistré sur cet appareil) ; "
        "s'il en avait, vérifiez que leur support est monté et [records] database dans la configuration "
        "(`edgescreen doctor`), ou remettez-les avec `edgescreen restore`. Rien n'a été créé là",
    },
    # Records gone while their key is there (records/presence.py): a drive not mounted, a card replaced.
    "refused.records_missing": {
        "en": "{path}: no records there, yet their key {key_file} is: is the records drive mounted? `edgescreen "
        "doctor` says what to check. Nothing was made there: new, empty records would hide the ones recorded",
        "fr": "{path} : aucun dossier là, alors que leur clé {key_file} est là : le support des dossiers est-il "
        "monté ? `edgescreen doctor` dit quoi vérifier. Rien n'a été créé là : de nouveaux dossiers vides "
        "cacheraient ceux qui ont été enregistrés",
    },
    # The same, their key gone with them (kept on their drive): the device's marker names them.
    "refused.records_made_there": {
        "en": "{path}: no records there, nor their key, yet records were made there ({marker} says so): is the "
        "records drive mounted? `edgescreen doctor` says what to check. Nothing was made there: new, empty "
        "records would hide the ones recorded",
        "fr": "{path} : aucun dossier là, ni leur clé, alors que des dossiers y ont été créés ({marker} le dit) : "
        "le support des dossiers est-il monté ? `edgescreen doctor` dit quoi vérifier. Rien n'a été créé là : "
        "de nouveaux dossiers vides cacheraient ceux qui ont été enregistrés",
    },
    # The same at a first start: new records made there would leave the ones the marker names out of view.
    "refused.records_elsewhere": {
        "en": "{path}: no records there, yet this device made its records at {named} ({marker} says so): check "
        "[records] database in the config, or move the records and their key where it says; to start new "
        "records there on purpose, remove {marker} first. Nothing was made there",
        "fr": "{path} : aucun dossier là, alors que cet appareil a créé ses dossiers dans {named} ({marker} le "
        "dit) : vérifiez [records] database dans la configuration, ou déplacez les dossiers et leur clé là où "
        "elle l'indique ; pour y créer exprès de nouveaux dossiers, supprimez d'abord {marker}. Rien n'a été "
        "créé là",
    },
    "refused.restore_records_exist": {
        "en": "{path}: records already exist there ({files}); move them all away before restoring (a crashed "
        "database's -wal would be replayed onto the restored records)",
        "fr": "{path} : des dossiers existent déjà là ({files}) ; déplacez-les tous ailleurs avant la restauration "
        "(le -wal d'une base interrompue serait rejoué sur les dossiers restaurés)",
    },
    "refused.restore_no_backup": {
        "en": "{path}: no such backup file; check the path, and that its drive is mounted: nothing was restored",
        "fr": "{path} : aucun fichier de sauvegarde à cet emplacement ; vérifiez le chemin, et que son support est "
        "monté : rien n'a été restauré",
    },
    "refused.restore_no_key": {
        "en": "{file}: no records key; put the device's key file back first (README, Backup and restore): nothing "
        "was restored",
        "fr": "{file} : aucune clé des dossiers ; remettez d'abord en place le fichier de clé de l'appareil "
        "(README, Backup and restore) : rien n'a été restauré",
    },
    "refused.wipe_unconfirmed": {
        "en": "wipe erases every record of this device for good: confirm with --confirm {device} (this device's "
        "[device] id in {config}); nothing was wiped",
        "fr": "wipe efface définitivement tous les dossiers de cet appareil : confirmez avec --confirm {device} "
        "([device] id de cet appareil dans {config}) ; rien n'a été effacé",
    },
    # {count}: the patients' erasure requests the broker has not taken yet (records/erasure_outbox.py).
    "refused.wipe_erasures_queued.one": {
        "en": "{count} patient's erasure is still to be sent to the review station: wiped now, the station would "
        "keep that patient's results. Send it first (edgescreen sync run --until-drained), then wipe again; a "
        "device that can no longer reach its station writes it out for the station's administrator instead "
        "(wipe --unsent-erasures FILE, on a USB drive); nothing was wiped",
        "fr": "{count} effacement de patient reste à envoyer au poste de relecture : si l'appareil était effacé "
        "maintenant, le poste garderait les résultats de ce patient. Envoyez-le d'abord (edgescreen sync run "
        "--until-drained), puis relancez edgescreen wipe ; un appareil qui ne peut plus joindre son poste l'écrit "
        "plutôt pour l'administrateur du poste (wipe --unsent-erasures FICHIER, sur une clé USB) ; rien n'a été "
        "effacé",
    },
    "refused.wipe_erasures_queued.other": {
        "en": "{count} patients' erasures are still to be sent to the review station: wiped now, the station would "
        "keep those patients' results. Send them first (edgescreen sync run --until-drained), then wipe again; a "
        "device that can no longer reach its station writes them out for the station's administrator instead "
        "(wipe --unsent-erasures FILE, on a USB drive); nothing was wiped",
        "fr": "{count} effacements de patients restent à envoyer au poste de relecture : si l'appareil était "
        "effacé maintenant, le poste garderait les résultats de ces patients. Envoyez-les d'abord (edgescreen "
        "sync run --until-drained), puis relancez edgescreen wipe ; un appareil qui ne peut plus joindre son poste "
        "les écrit plutôt pour l'administrateur du poste (wipe --unsent-erasures FICHIER, sur une clé USB) ; rien "
        "n'a été effacé",
    },
    # {count}: the results the broker has not taken yet (``sync status``'s backlog): the records are their one copy.
    "refused.wipe_results_unsent.one": {
        "en": "{count} result is still to be sent to the review station: wiped now, no clinician would ever see it. "
        "Send it first (edgescreen sync run --until-drained), then wipe again; a device that can never send it "
        "(its broker gone, the device scrapped) is wiped with wipe --discard-unsent-results, which erases it "
        "unsent; nothing was wiped",
        "fr": "{count} résultat reste à envoyer au poste de relecture : si l'appareil était effacé maintenant, "
        "aucun clinicien ne le verrait jamais. Envoyez-le d'abord (edgescreen sync run --until-drained), puis "
        "relancez edgescreen wipe ; un appareil qui ne pourra jamais l'envoyer (le serveur du site disparu, "
        "l'appareil mis au rebut) s'efface avec wipe --discard-unsent-results, qui l'efface sans l'envoyer ; "
        "rien n'a été effacé",
    },
    "refused.wipe_results_unsent.other": {
        "en": "{count} results are still to be sent to the review station: wiped now, no clinician would ever see "
        "them. Send them first (edgescreen sync run --until-drained), then wipe again; a device that can never "
        "send them (its broker gone, the device scrapped) is wiped with wipe --discard-unsent-results, which "
        "erases them unsent; nothing was wiped",
        "fr": "{count} résultats restent à envoyer au poste de relecture : si l'appareil était effacé maintenant, "
        "aucun clinicien ne les verrait jamais. Envoyez-les d'abord (edgescreen sync run --until-drained), puis "
        "relancez edgescreen wipe ; un appareil qui ne pourra jamais les envoyer (le serveur du site disparu, "
        "l'appareil mis au rebut) s'efface avec wipe --discard-unsent-results, qui les efface sans les envoyer ; "
        "rien n'a été effacé",
    },
    # {count}: the shared photos the uploader will yet send (``UploadQueue.still_to_send``), every result sent.
    "refused.wipe_photos_unsent.one": {
        "en": "{count} photo for the specialists is still to be uploaded to the review station: wiped now, no "
        "specialist would ever get it. Send it first (edgescreen sync run --until-drained), then wipe again; a "
        "device that can never send it (its review station gone, the device scrapped) is wiped with wipe "
        "--discard-unsent-results, which erases it unsent; nothing was wiped",
        "fr": "{count} photo destinée aux spécialistes reste à envoyer au poste de relecture : si l'appareil "
        "était effacé maintenant, aucun spécialiste ne la recevrait jamais. Envoyez-la d'abord (edgescreen sync "
        "run --until-drained), puis relancez edgescreen wipe ; un appareil qui ne pourra jamais l'envoyer (le "
        "poste de relecture disparu, l'appareil mis au rebut) s'efface avec wipe --discard-unsent-results, qui "
        "l'efface sans l'envoyer ; rien n'a été effacé",
    },
    "refused.wipe_photos_unsent.other": {
        "en": "{count} photos for the specialists are still to be uploaded to the review station: wiped now, no "
        "specialist would ever get them. Send them first (edgescreen sync run --until-drained), then wipe again; "
        "a device that can never send them (its review station gone, the device scrapped) is wiped with wipe "
        "--discard-unsent-results, which erases them unsent; nothing was wiped",
        "fr": "{count} photos destinées aux spécialistes restent à envoyer au poste de relecture : si l'appareil "
        "était effacé maintenant, aucun spécialiste ne les recevrait jamais. Envoyez-les d'abord (edgescreen "
        "sync run --until-drained), puis relancez edgescreen wipe ; un appareil qui ne pourra jamais les envoyer "
        "(le poste de relecture disparu, l'appareil mis au rebut) s'efface avec wipe --discard-unsent-results, "
        "qui les efface sans les envoyer ; rien n'a été effacé",
    },
    # Both waiting: {results} and {photos} are ``wipe.results_waiting`` and ``wipe.photos_waiting``, said in full.
    "refused.wipe_results_and_photos_unsent": {
        "en": "{results}, and {photos}: wiped now, no clinician would ever see them. Send them first (edgescreen "
        "sync run --until-drained), then wipe again; a device that can never send them (its broker or review "
        "station gone, the device scrapped) is wiped with wipe --discard-unsent-results, which erases them "
        "unsent; nothing was wiped",
        "fr": "{results}, et {photos} : si l'appareil était effacé maintenant, aucun clinicien ne les verrait "
        "jamais. Envoyez-les d'abord (edgescreen sync run --until-drained), puis relancez edgescreen wipe ; un "
        "appareil qui ne pourra jamais les envoyer (le serveur du site ou le poste de relecture disparu, "
        "l'appareil mis au rebut) s'efface avec wipe --discard-unsent-results, qui les efface sans les envoyer ; "
        "rien n'a été effacé",
    },
    # {count}: the shared photos the review station refused, kept for ``sync retry-photos``
    # (``UploadQueue.owed``), nothing else owed.
    "refused.wipe_photos_refused.one": {
        "en": "{count} photo for the specialists was refused by the review station and is kept on this device: "
        "wiped now, no specialist would ever get it. Once the cause is mended (the station's size limit, its "
        "certificate), queue it again (edgescreen sync retry-photos) and send it (edgescreen sync run "
        "--until-drained), then wipe again; a device that can never send it (its review station gone, the device "
        "scrapped) is wiped with wipe --discard-unsent-results, which erases it unsent; nothing was wiped",
        "fr": "{count} photo destinée aux spécialistes a été refusée par le poste de relecture et reste sur cet "
        "appareil : si l'appareil était effacé maintenant, aucun spécialiste ne la recevrait jamais. Une fois la "
        "cause réparée (la taille maximale du poste, son certificat), remettez-la en file (edgescreen sync "
        "retry-photos) et envoyez-la (edgescreen sync run --until-drained), puis relancez edgescreen wipe ; un "
        "appareil qui ne pourra jamais l'envoyer (le poste de relecture disparu, l'appareil mis au rebut) "
        "s'efface avec wipe --discard-unsent-results, qui l'efface sans l'envoyer ; rien n'a été effacé",
    },
    "refused.wipe_photos_refused.other": {
        "en": "{count} photos for the specialists were refused by the review station and are kept on this device: "
        "wiped now, no specialist would ever get them. Once the cause is mended (the station's size limit, its "
        "certificate), queue them again (edgescreen sync retry-photos) and send them (edgescreen sync run "
        "--until-drained), then wipe again; a device that can never send them (its review station gone, the "
        "device scrapped) is wiped with wipe --discard-unsent-results, which erases them unsent; nothing was wiped",
        "fr": "{count} photos destinées aux spécialistes ont été refusées par le poste de relecture et restent sur "
        "cet appareil : si l'appareil était effacé maintenant, aucun spécialiste ne les recevrait jamais. Une "
        "fois la cause réparée (la taille maximale du poste, son certificat), remettez-les en file (edgescreen "
        "sync retry-photos) et envoyez-les (edgescreen sync run --until-drained), puis relancez edgescreen wipe ; "
        "un appareil qui ne pourra jamais les envoyer (le poste de relecture disparu, l'appareil mis au rebut) "
        "s'efface avec wipe --discard-unsent-results, qui les efface sans les envoyer ; rien n'a été effacé",
    },
    # Photos refused beside results or photos waiting: {owed} is ``wipe.results_waiting`` and/or
    # ``wipe.photos_waiting`` (", " between them), {refused} ``wipe.photos_refused``, said in full.
    "refused.wipe_unsent_and_photos_refused": {
        "en": "For the review station: {owed}, and {refused}: wiped now, no clinician or specialist would ever "
        "get them. Once the cause of the refusal is mended (the station's size limit, its certificate), queue "
        "the refused photos again (edgescreen sync retry-photos), send everything (edgescreen sync run "
        "--until-drained), then wipe again; a device that can never send them (its broker or review station "
        "gone, the device scrapped) is wiped with wipe --discard-unsent-results, which erases them unsent; "
        "nothing was wiped",
        "fr": "Pour le poste de relecture : {owed}, et {refused} : si l'appareil était effacé maintenant, aucun "
        "clinicien ni spécialiste ne les recevrait jamais. Une fois la cause du refus réparée (la taille "
        "maximale du poste, son certificat), remettez en file les photos refusées (edgescreen sync "
        "retry-photos), envoyez le tout (edgescreen sync run --until-drained), puis relancez edgescreen wipe ; "
        "un appareil qui ne pourra jamais les envoyer (le serveur du site ou le poste de relecture disparu, "
        "l'appareil mis au rebut) s'efface avec wipe --discard-unsent-results, qui les efface sans les "
        "envoyer ; rien n'a été effacé",
    },
    # ``wipe --unsent-erasures FILE`` (firmware_app/wipe.py): the file must outlive the wipe, and be new.
    "refused.wipe_unsent_erasures_inside": {
        "en": "{file}: inside the records' folder {folder}, which the wipe erases; write the erasures elsewhere (a "
        "USB drive); nothing was wiped",
        "fr": "{file} : dans le répertoire des dossiers {folder}, que wipe efface ; écrivez les effacements "
        "ailleurs (une clé USB) ; rien n'a été effacé",
    },
    "refused.wipe_unsent_erasures_exists": {
        "en": "{file}: already exists (it may hold another device's erasures); name a new file; nothing was wiped",
        "fr": "{file} : existe déjà (il peut contenir les effacements d'un autre appareil) ; nommez un nouveau "
        "fichier ; rien n'a été effacé",
    },
    "refused.wipe_unsent_erasures_unwritable": {
        "en": "{file}: cannot be written ({reason}); check that its folder exists (the drive is mounted), can be "
        "written and has room; nothing was wiped",
        "fr": "{file} : ne peut pas être écrit ({reason}) ; vérifiez que son dossier existe (le support est "
        "monté), qu'on peut y écrire et qu'il reste de la place ; rien n'a été effacé",
    },
    "refused.wipe_worker_running": {
        "en": "the sync worker of these records is running; stop the services first (sudo systemctl stop "
        "edgescreen-app edgescreen-sync): nothing was wiped",
        "fr": "le service de synchronisation de ces dossiers tourne ; arrêtez d'abord les services (sudo "
        "systemctl stop edgescreen-app edgescreen-sync) : rien n'a été effacé",
    },
    # Records and their key gone with their drive (records/presence.py): a wipe would erase none of them.
    "refused.wipe_records_gone": {
        "en": "{path}: no records there, nor their key, yet records were made there ({marker} says so): is the "
        "records drive mounted? Nothing was wiped: mount it, then wipe again. If the drive is lost for good, "
        "nothing of it is here to wipe: remove {marker}, and the device starts afresh",
        "fr": "{path} : aucun dossier là, ni leur clé, alors que des dossiers y ont été créés ({marker} le dit) : "
        "le support des dossiers est-il monté ? Rien n'a été effacé : montez-le, puis relancez wipe. Si le "
        "support est perdu pour de bon, rien de lui n'est ici à effacer : supprimez {marker}, et l'appareil "
        "repart à neuf",
    },
    "refused.wipe_shared_folder": {
        "en": "{folder}: [records] database is in a folder that holds more than the records (the software or a "
        "home folder); nothing was wiped. Move the records to a folder of their own first",
        "fr": "{folder} : [records] database est dans un répertoire qui contient plus que les dossiers (le "
        "logiciel ou un répertoire personnel) ; rien n'a été effacé. Placez d'abord les dossiers dans un "
        "répertoire à eux seuls",
    },
    # The nurse's context refused as given (``records.screening.ContextError``): by ``edgescreen screen`` and
    # ``capture``'s --patient, --eye, --body-site and --note, and by the app should a request skip its form.
    "refused.context.patient_length": {
        "en": "the patient reference must have 1 to {most} characters; nothing was screened",
        "fr": "la référence du patient doit avoir de 1 à {most} caractères ; rien n'a été dépisté",
    },
    "refused.context.note_length": {
        "en": "the note must have at most {most} characters; nothing was screened",
        "fr": "la note doit avoir au plus {most} caractères ; rien n'a été dépisté",
    },
    "refused.context.eye": {
        "en": "the eye is one of {choices}, not {given}; nothing was screened",
        "fr": "l'œil est l'un de {choices}, pas {given} ; rien n'a été dépisté",
    },
    "refused.context.body_site": {
        "en": "the body site is one of {choices}, not {given}; nothing was screened",
        "fr": "la partie du corps est l'une de {choices}, pas {given} ; rien n'a été dépisté",
    },
    "refused.context.eye_and_site": {
        "en": "a screening is of an eye or of a body site, not both; nothing was screened",
        "fr": "un dépistage porte sur un œil ou sur une partie du corps, pas les deux ; rien n'a été dépisté",
    },
    "refused.context.fundus_site": {
        "en": "a fundus screening takes an eye (--eye), not a body site (--body-site); nothing was screened",
        "fr": "un dépistage du fond d'œil prend un œil (--eye), pas une partie du corps (--body-site) ; rien n'a "
        "été dépisté",
    },
    "refused.context.dermoscopy_eye": {
        "en": "a dermoscopy screening takes a body site (--body-site), not an eye (--eye); nothing was screened",
        "fr": "une dermoscopie prend une partie du corps (--body-site), pas un œil (--eye) ; rien n'a été dépisté",
    },
    "health.backup.off": {
        "en": "Backup reminder off ([records] backup_warning_days = 0).",
        "fr": "Rappel de sauvegarde désactivé ([records] backup_warning_days = 0).",
    },
    "health.loop.green": {"en": "The {loop} is running.", "fr": "La boucle {loop} tourne."},
    "health.loop.red": {
        "en": "The {loop} is stuck ({overdue} s late): the service restarts it.",
        "fr": "La boucle {loop} est bloquée ({overdue} s de retard) : le service la redémarre.",
    },
    "health.liveness.failed": {
        "en": "A health check failed ({error}): the service restarts unless the next one passes.",
        "fr": "Un contrôle de santé a échoué ({error}) : le service redémarre si le suivant échoue aussi.",
    },
    "health.writable.green": {"en": "Records writable.", "fr": "Dossiers accessibles en écriture."},
    "health.writable.red": {
        "en": "The records cannot be written: their disk or folder refuses it. Call the technician (edgescreen "
        "doctor logs why).",
        "fr": "Les dossiers ne peuvent pas être écrits : leur disque ou leur dossier le refuse. Appelez le "
        "technicien (le journal d'edgescreen doctor dit pourquoi).",
    },
    "health.writable.locked": {
        "en": "The records cannot be written: they stay locked. Restart the device; if it stays so, call the "
        "technician.",
        "fr": "Les dossiers ne peuvent pas être écrits : ils restent verrouillés. Redémarrez l'appareil ; si "
        "cela continue, appelez le technicien.",
    },
    "health.writable.held_alone": {
        "en": "The disk of the records ({path}) is full: the sync worker holds them alone, and sends, until "
        "there is room again. Free space on it.",
        "fr": "Le disque des dossiers ({path}) est plein : le service de synchronisation les garde pour lui seul, "
        "et envoie, jusqu'à ce qu'il y ait de nouveau de la place. Libérez de l'espace sur ce disque.",
    },
    # The write lock held past a busy timeout by another process than the one checking, named as the
    # kernel lists it (health/checks.py, locked): a restart of the app does not free it.
    "health.writable.locked_by_service": {
        "en": "The records cannot be written: the {unit} service (process {pid}) has kept them locked for more "
        "than {seconds} s. Call the technician: sudo systemctl status {unit} shows what it is doing; sudo "
        "systemctl restart {unit} frees them (nothing recorded is lost).",
        "fr": "Les dossiers ne peuvent pas être écrits : le service {unit} (processus {pid}) les garde "
        "verrouillés depuis plus de {seconds} s. Appelez le technicien : sudo systemctl status {unit} montre ce "
        "qu'il fait ; sudo systemctl restart {unit} les libère (rien de ce qui est enregistré n'est perdu).",
    },
    "health.writable.locked_by": {
        "en": "The records cannot be written: {program} (process {pid}) has kept them locked for more than "
        "{seconds} s. Call the technician: let it finish if it is a backup or an erasure under way, else stop "
        "that program (sudo kill {pid}); nothing recorded is lost.",
        "fr": "Les dossiers ne peuvent pas être écrits : {program} (processus {pid}) les garde verrouillés "
        "depuis plus de {seconds} s. Appelez le technicien : laissez-le finir si c'est une sauvegarde ou un "
        "effacement en cours, sinon arrêtez ce programme (sudo kill {pid}) ; rien de ce qui est enregistré "
        "n'est perdu.",
    },
    "health.writable.locked_by_another": {
        "en": "The records cannot be written: process {pid}, whose name this check may not read, has kept them "
        "locked for more than {seconds} s. Call the technician: sudo ps -o user,args -p {pid} names it; let it "
        "finish if it is a "
        "backup or an erasure under way, else stop that program (sudo kill {pid}); nothing recorded is lost.",
        "fr": "Les dossiers ne peuvent pas être écrits : le processus {pid}, dont ce contrôle ne peut pas lire le "
        "nom, les garde verrouillés depuis plus de {seconds} s. Appelez le technicien : sudo ps -o user,args -p "
        "{pid} le nomme ; "
        "laissez-le finir si c'est une sauvegarde ou un effacement en cours, sinon arrêtez ce programme (sudo "
        "kill {pid}) ; rien de ce qui est enregistré n'est perdu.",
    },
    # The records kept locked past the wait where the kernel's list of locks cannot be read (a PID
    # namespace, a hardened kernel; health/checks.py, records_unusable): nobody can be named, nor the
    # sync worker holding them alone on a full disk told from another program.
    "health.writable.locked_unlisted": {
        "en": "The records cannot be written: another process has kept them locked for more than {seconds} s, "
        "and which one cannot be told here (the kernel's list of locks cannot be read). Call the technician: if "
        "the disk is nearly full, the sync service may hold them alone until there is room, so free space on it; "
        "else let a backup or an erasure under way finish, or stop the program that holds them. Nothing recorded "
        "is lost.",
        "fr": "Les dossiers ne peuvent pas être écrits : un autre processus les garde verrouillés depuis plus de "
        "{seconds} s, et lequel ne peut pas être dit ici (la liste des verrous du noyau ne peut pas être lue). "
        "Appelez le technicien : si le disque est presque plein, le service de synchronisation les garde "
        "peut-être pour lui seul jusqu'à ce qu'il y ait de la place, libérez-en donc ; sinon laissez finir une "
        "sauvegarde ou un effacement en cours, ou arrêtez le programme qui les garde. Rien de ce qui est "
        "enregistré n'est perdu.",
    },
    # The records' folder or a file of theirs this user may not write, or their file system read-only
    # (health/checks.py, records_not_writable): which one and whose, and what gives it back; the
    # commands are the shell's, in any language.
    "health.writable.permission": {
        "en": "The records cannot be written: {path} belongs to {owner} (mode {mode}), and {user}, the user "
        "running this check, may not write to it. Call the technician: sudo chown {user}: {path} then sudo chmod "
        "{grant} {path} give it back (nothing recorded is lost).",
        "fr": "Les dossiers ne peuvent pas être écrits : {path} appartient à {owner} (mode {mode}), et {user}, "
        "l'utilisateur qui fait ce contrôle, ne peut pas y écrire. Appelez le technicien : sudo chown {user}: "
        "{path} puis sudo chmod {grant} {path} le lui rendent (rien de ce qui est enregistré n'est perdu).",
    },
    # The same judged for the services' user by a check run as root, which may write anywhere
    # (health/service_user.py): the user named is theirs, not the one running the check.
    "health.writable.service_permission": {
        "en": "The records cannot be written by the device's services: {path} belongs to {owner} (mode {mode}), "
        "and {user}, the user they run as, may not write to it (root, running this check, may write anywhere). "
        "Call the technician: sudo chown {user}: {path} then sudo chmod {grant} {path} give it back (nothing "
        "recorded is lost).",
        "fr": "Les services de l'appareil ne peuvent pas écrire les dossiers : {path} appartient à {owner} (mode "
        "{mode}), et {user}, l'utilisateur sous lequel ils tournent, ne peut pas y écrire (root, qui fait ce "
        "contrôle, peut écrire partout). Appelez le technicien : sudo chown {user}: {path} puis sudo chmod "
        "{grant} {path} le lui rendent (rien de ce qui est enregistré n'est perdu).",
    },
    # A folder above the records the services' user may not search (its x bit), and so may not reach
    # them through, judged by a check run as root (health/checks.py, _search_refused): the grant opens
    # it to that user's class alone.
    "health.writable.service_search": {
        "en": "The records cannot be written by the device's services: {folder}, a folder above them, belongs to "
        "{owner} (mode {mode}), and {user}, the user they run as, may not go through it to reach them (root, "
        "running this check, may go anywhere). Call the technician: sudo chmod {grant} {folder} lets {user} "
        "through (nothing recorded is lost).",
        "fr": "Les services de l'appareil ne peuvent pas écrire les dossiers : {folder}, un répertoire au-dessus "
        "d'eux, appartient à {owner} (mode {mode}), et {user}, l'utilisateur sous lequel ils tournent, ne peut "
        "pas le traverser pour les atteindre (root, qui fait ce contrôle, peut aller partout). Appelez le "
        "technicien : sudo chmod {grant} {folder} lui ouvre le passage (rien de ce qui est enregistré n'est "
        "perdu).",
    },
    # The same where the folder carries a POSIX ACL: a chmod of a class's bits may not let that user
    # through (an entry naming it refuses it whatever the others' bits say); an entry of its own does.
    "health.writable.service_search_acl": {
        "en": "The records cannot be written by the device's services: {folder}, a folder above them, belongs to "
        "{owner} (mode {mode}) and carries an access control list (ACL), and {user}, the user they run as, may "
        "not go through it to reach them (root, running this check, may go anywhere). Call the technician: sudo "
        "setfacl -m u:{user}:x {folder} lets {user} through (nothing recorded is lost).",
        "fr": "Les services de l'appareil ne peuvent pas écrire les dossiers : {folder}, un répertoire au-dessus "
        "d'eux, appartient à {owner} (mode {mode}) et porte une liste de contrôle d'accès (ACL), et {user}, "
        "l'utilisateur sous lequel ils tournent, ne peut pas le traverser pour les atteindre (root, qui fait ce "
        "contrôle, peut aller partout). Appelez le technicien : sudo setfacl -m u:{user}:x {folder} lui ouvre le "
        "passage (rien de ce qui est enregistré n'est perdu).",
    },
    "health.writable.root": {
        "en": "Run as root, which may write anywhere, this check cannot tell whether the device's services may "
        "write the records: their user, {user}, does not exist here (scripts/install-device makes it). Run "
        "edgescreen doctor as the user the app runs as, without sudo.",
        "fr": "Lancé en tant que root, qui peut écrire partout, ce contrôle ne peut pas dire si les services de "
        "l'appareil peuvent écrire les dossiers : leur utilisateur, {user}, n'existe pas ici "
        "(scripts/install-device le crée). Lancez edgescreen doctor sous l'utilisateur qui fait tourner "
        "l'application, sans sudo.",
    },
    "health.writable.read_only": {
        "en": "The records cannot be written: the file system that holds them ({mount}) is mounted read-only. "
        "Call the technician: when the kernel log (dmesg) shows the card's write errors, the card is failing: "
        "copy the records' folder off it as it is, then replace the card (README, Backup and restore); "
        "otherwise, mount {mount} read-write again.",
        "fr": "Les dossiers ne peuvent pas être écrits : le système de fichiers qui les contient ({mount}) est "
        "monté en lecture seule. Appelez le technicien : si le journal du noyau (dmesg) montre des erreurs "
        "d'écriture de la carte, elle est défaillante : copiez hors de la carte le répertoire des dossiers tel "
        "quel, puis remplacez la carte (README, Backup and restore) ; sinon, remontez {mount} en lecture-écriture.",
    },
    # Records outside where the service's sandbox lets it write (health/checks.py, _read_only_view):
    # the disk itself takes writes, so remounting it mends nothing.
    "health.writable.sandbox": {
        "en": "The records cannot be written: {folder} is read-only for this service, though its disk takes "
        "writes. Call the technician: the service's sandbox lets it write only under {writable}: move the "
        "records there, or add {folder} to ReadWritePaths= in a drop-in (sudo systemctl edit edgescreen-app, "
        "then the same for edgescreen-sync) and restart both services.",
        "fr": "Les dossiers ne peuvent pas être écrits : {folder} est en lecture seule pour ce service, bien que "
        "son disque accepte l'écriture. Appelez le technicien : le bac à sable du service ne le laisse écrire "
        "que sous {writable} : déplacez-y les dossiers, ou ajoutez {folder} à ReadWritePaths= dans un fichier "
        "complémentaire (sudo systemctl edit edgescreen-app, puis de même pour edgescreen-sync) et redémarrez "
        "les deux services.",
    },
    "health.identity.green": {"en": "Device {device} at site {site}.", "fr": "Appareil {device}, site {site}."},
    "health.identity.red": {
        "en": "The device and site ids are still the installer's ({device}, {site}): set [device] id and site "
        "in the config file, then restart the services.",
        "fr": "Les identifiants de l'appareil et du site sont encore ceux de l'installation ({device}, {site}) : "
        "renseignez [device] id et site dans le fichier de configuration, puis redémarrez les services.",
    },
    "health.identity.demo": {
        "en": "Device {device} at site {site}: ids of the bundled demo, which every demo device shares (the station "
        "files their results under them). For a campaign, set [device] id and site in the config file, then "
        "restart the services.",
        "fr": "Appareil {device}, site {site} : identifiants de la démonstration fournie, communs à tous les "
        "appareils de démonstration (la station classe leurs résultats sous ces noms). Pour une campagne, "
        "renseignez [device] id et site dans le fichier de configuration, puis redémarrez les services.",
    },
    "health.identity.moved": {
        "en": "The config says device {device} at site {site}, but the records were made by {records_device} at "
        "{records_site}. A replacement takes the old device's ids: set [device] id and site to theirs. A device "
        "moving to another site is wiped first (edgescreen wipe): the old site's patients must not be read here.",
        "fr": "La configuration indique l'appareil {device}, site {site}, mais les dossiers ont été faits par "
        "{records_device}, site {records_site}. Un appareil de remplacement prend les identifiants de l'ancien : "
        "renseignez-les dans [device] id et site. Un appareil qui change de site est d'abord effacé "
        "(edgescreen wipe) : les patients de l'ancien site ne doivent pas être lus ici.",
    },
    "health.quality.green": {
        "en": "Quality limits: none looser than this release's, none of its declared ones changed.",
        "fr": "Limites de qualité : aucune plus lâche que celles de cette version, aucune limite déclarée changée.",
    },
    "health.quality.amber": {
        "en": "The config holds quality limits this release's edgescreen quality fit would not write: "
        "{settings}. If an older fit wrote them, delete those lines or fit again; a deliberate setting may stay.",
        "fr": "La configuration contient des limites de qualité que l'edgescreen quality fit de cette version "
        "n'écrirait pas : {settings}. Si un ancien ajustement les a écrites, supprimez ces lignes ou refaites "
        "l'ajustement ; un réglage voulu peut rester.",
    },
    "health.sealed.green": {
        "en": "Every sealed value opens with the records key.",
        "fr": "Toutes les valeurs chiffrées s'ouvrent avec la clé des dossiers.",
    },
    # Counted (``wording.check_sentence``): never "1 screening(s) hold".
    "health.sealed.amber.one": {
        "en": "{count} screening holds a sealed value (photo, patient reference, note, file name or comment) "
        "that no longer opens: result {results}. The card is wearing out: back up now, then replace the card and "
        "restore the backup onto the new one (README, Backup and restore).",
        "fr": "{count} dépistage contient une valeur chiffrée (photo, référence patient, note, nom de fichier ou "
        "commentaire) qui ne s'ouvre plus : résultat {results}. La carte s'use : sauvegardez maintenant, puis "
        "remplacez la carte et restaurez la sauvegarde sur la neuve (README, Backup and restore).",
    },
    "health.sealed.amber.other": {
        "en": "{count} screenings hold a sealed value (photo, patient reference, note, file name or comment) "
        "that no longer opens: results {results}. The card is wearing out: back up now, then replace the card and "
        "restore the backup onto the new one (README, Backup and restore).",
        "fr": "{count} dépistages contiennent une valeur chiffrée (photo, référence patient, note, nom de fichier "
        "ou commentaire) qui ne s'ouvre plus : résultats {results}. La carte s'use : sauvegardez maintenant, puis "
        "remplacez la carte et restaurez la sauvegarde sur la neuve (README, Backup and restore).",
    },
    "health.sealed.unread": {
        "en": "The sealed values could not all be read: see the records check.",
        "fr": "Les valeurs chiffrées n'ont pas toutes pu être lues : voir le contrôle des dossiers.",
    },
    "health.erased.green": {
        "en": "No erased data is left in the records' write-ahead log.",
        "fr": "Aucune donnée supprimée ne reste dans le journal d'écriture anticipée (WAL) des dossiers.",
    },
    "health.erased.reader": {
        "en": "Data erased from the records is still on the disk, in their write-ahead log: another program is "
        "reading the records (a backup, an export). It leaves once that reading ends: at the end of the backup, at "
        "the next screening or erasure, at the sync service's hourly maintenance, or when this check runs again.",
        "fr": "Des données supprimées des dossiers restent sur le disque, dans leur journal d'écriture anticipée "
        "(WAL) : un autre programme lit les dossiers (une sauvegarde, un export). Elles en sortent quand cette "
        "lecture se termine : à la fin de la sauvegarde, au prochain dépistage ou à la prochaine suppression, à la "
        "maintenance horaire du service de synchronisation, ou quand ce contrôle est relancé.",
    },
    # The checkpoint itself failed (health/checks.py, check_erased): what to mend, as no reader is waited for.
    "health.erased.full": {
        "en": "Data erased from the records is still on the disk, in their write-ahead log: the disk is full, so "
        "it could not be taken out. Free space on the device; it then leaves at the next screening or erasure, at "
        "the sync service's hourly maintenance, or when this check runs again.",
        "fr": "Des données supprimées des dossiers restent sur le disque, dans leur journal d'écriture anticipée "
        "(WAL) : le disque est plein, elles n'ont pas pu en être retirées. Libérez de la place sur l'appareil ; "
        "elles en sortent ensuite au prochain dépistage ou à la prochaine suppression, à la maintenance horaire "
        "du service de synchronisation, ou quand ce contrôle est relancé.",
    },
    "health.erased.damaged": {
        "en": "Data erased from the records is still on the disk, in their write-ahead log: the records file is "
        "damaged, so it could not be taken out. Call the technician: keep a copy of the records file as it is, "
        "restore the last backup onto a new card (README, Backup and restore), then erase again any patient "
        "erased lately.",
        "fr": "Des données supprimées des dossiers restent sur le disque, dans leur journal d'écriture anticipée "
        "(WAL) : le fichier des dossiers est endommagé, elles n'ont pas pu en être retirées. Appelez le "
        "technicien : garder une copie du fichier des dossiers tel quel, restaurer la dernière sauvegarde sur "
        "une carte neuve (README, Backup and restore), puis effacer à nouveau tout patient effacé récemment.",
    },
    "health.erased.failed": {
        "en": "Data erased from the records is still on the disk, in their write-ahead log: the records could not "
        "be written to take it out (a file system mounted read-only, or a card that fails to write). Call the "
        "technician: the log of edgescreen doctor says why. Once the records can be written, it leaves at the "
        "next screening or erasure, or when this check runs again.",
        "fr": "Des données supprimées des dossiers restent sur le disque, dans leur journal d'écriture anticipée "
        "(WAL) : les dossiers n'ont pas pu être écrits pour les en retirer (un système de fichiers monté en "
        "lecture seule, ou une carte qui n'écrit plus). Appelez le technicien : le journal d'edgescreen doctor "
        "dit pourquoi. Une fois les dossiers de nouveau inscriptibles, elles en sortent au prochain dépistage ou "
        "à la prochaine suppression, ou quand ce contrôle est relancé.",
    },
    # doctor's photos shared with the review station (``check_photos``, ``records.store.photo_status``).
    # {wait}: how long the oldest waiting photo has (``wording.duration``); {uploaded}: those at the station.
    "health.photos.none": {
        "en": "Photos waiting for the review station: none (at the station: {uploaded}).",
        "fr": "Photos en attente pour le poste de relecture : aucune (au poste : {uploaded}).",
    },
    "health.photos.green": {
        "en": "Photos waiting for the review station: {count}, the oldest for {wait} (at the station: {uploaded}).",
        "fr": "Photos en attente pour le poste de relecture : {count}, la plus ancienne depuis {wait} (au poste : "
        "{uploaded}).",
    },
    "health.photos.amber": {
        "en": "Photos waiting for the review station: {count}, the oldest for {wait}. A photo leaves once its result "
        "has reached the site server and the station takes it: check the network and [sync] station_url; the sync "
        "service's log says what the station answered (sync.upload_later, sync.upload_failed).",
        "fr": "Photos en attente pour le poste de relecture : {count}, la plus ancienne depuis {wait}. Une photo part "
        "une fois son résultat parvenu au serveur du site et acceptée par le poste : vérifiez le réseau et [sync] "
        "station_url ; le journal du service de synchronisation dit ce que le poste a répondu (sync.upload_later, "
        "sync.upload_failed).",
    },
    # Undated: queued with their results before the last restart on a clock not synchronised (QUEUED_AGE).
    "health.photos.undated": {
        "en": "Photos waiting for the review station: {count}, some queued before the last restart or update, on a "
        "clock that was not set: how long they have waited cannot be told. Check the network and [sync] "
        "station_url.",
        "fr": "Photos en attente pour le poste de relecture : {count}, dont certaines mises en attente avant le "
        "dernier redémarrage ou la dernière mise à jour, sur une horloge non réglée : impossible de savoir depuis "
        "quand elles attendent. Vérifiez le réseau et [sync] station_url.",
    },
    # {reasons}: each reason (photos.reason.*) with its count (``wording.photo_reasons``).
    "health.photos_refused.amber.one": {
        "en": "{count} photo set aside, not sent to the review station: {reasons}. Mend the cause, then run "
        "edgescreen sync retry-photos (a photo whose result the station erased is never sent again).",
        "fr": "{count} photo mise de côté, non envoyée au poste de relecture : {reasons}. Corrigez la cause, puis "
        "lancez edgescreen sync retry-photos (une photo dont le poste a effacé le résultat n'est jamais renvoyée).",
    },
    "health.photos_refused.amber.other": {
        "en": "{count} photos set aside, not sent to the review station: {reasons}. Mend the cause, then run "
        "edgescreen sync retry-photos (a photo whose result the station erased is never sent again).",
        "fr": "{count} photos mises de côté, non envoyées au poste de relecture : {reasons}. Corrigez la cause, "
        "puis lancez edgescreen sync retry-photos (une photo dont le poste a effacé le résultat n'est jamais "
        "renvoyée).",
    },
    "health.photos_refused.green.one": {
        "en": "{count} photo never to be sent: the review station erased its result at the patient's request.",
        "fr": "{count} photo jamais envoyée : le poste de relecture a effacé son résultat à la demande du patient.",
    },
    "health.photos_refused.green.other": {
        "en": "{count} photos never to be sent: the review station erased their results at the patients' request.",
        "fr": "{count} photos jamais envoyées : le poste de relecture a effacé leurs résultats à la demande des "
        "patients.",
    },
    # Why the uploader set a photo aside (records/uploads.py), by the station's answer (review_station/uploads.py).
    "photos.reason.erased": {
        "en": "result erased at the station at the patient's request (410)",
        "fr": "résultat effacé au poste à la demande du patient (410)",
    },
    "photos.reason.altered": {
        "en": "sealed photo altered on this device (its digest differs)",
        "fr": "photo chiffrée modifiée sur cet appareil (son empreinte diffère)",
    },
    "photos.reason.400": {
        "en": "refused as cut short or altered on the way (400)",
        "fr": "refusée comme tronquée ou modifiée en route (400)",
    },
    "photos.reason.403": {
        "en": "refused as another device's result (403, check the device certificate)",
        "fr": "refusée comme résultat d'un autre appareil (403, vérifiez le certificat de l'appareil)",
    },
    "photos.reason.413": {
        "en": "too large for the station (413, raise its [uploads] max_upload_mb)",
        "fr": "trop grande pour le poste (413, augmentez son [uploads] max_upload_mb)",
    },
    "photos.reason.422": {
        "en": "refused as its result announced no photo (422)",
        "fr": "refusée car son résultat n'annonçait aucune photo (422)",
    },
    "photos.reason.status": {"en": "refused by the station ({status})", "fr": "refusée par le poste ({status})"},
    # A reason (photos.reason.*) and how many photos were set aside for it (``wording.photo_reasons``).
    "photos.reason.counted": {"en": "{reason}: {count}", "fr": "{reason} : {count}"},
    "health.key.green": {"en": "Records key {path}: private.", "fr": "Clé des dossiers {path} : privée."},
    "health.key.new": {
        "en": "No records yet: the key {path} is made at first start. Back it up then.",
        "fr": "Pas encore de dossiers : la clé {path} sera créée au premier démarrage. Sauvegardez-la alors.",
    },
    "health.key.missing": {
        "en": "The records key {path} is missing: put back the key kept with the backups, or nothing opens.",
        "fr": "La clé des dossiers {path} manque : remettez celle gardée avec les sauvegardes, sinon rien ne s'ouvre.",
    },
    "health.key.exposed": {
        "en": "The records key {path} is readable by others (mode {mode}): run chmod 600 on it.",
        "fr": "La clé des dossiers {path} est lisible par d'autres (mode {mode}) : faites chmod 600.",
    },
    "health.key.unreadable": {
        "en": "The records key {path} cannot be read. Call the technician to check its owner and permissions "
        "(edgescreen doctor logs why).",
        "fr": "La clé des dossiers {path} ne peut pas être lue. Appelez le technicien pour vérifier son "
        "propriétaire et ses droits (le journal d'edgescreen doctor dit pourquoi).",
    },
    "health.key.size": {
        "en": "The records key {path} is {size} bytes, not {expected}: it is not a records key. Put back the key "
        "kept with the backups.",
        "fr": "La clé des dossiers {path} fait {size} octets, et non {expected} : ce n'est pas une clé des "
        "dossiers. Remettez celle gardée avec les sauvegardes.",
    },
    "health.encryption.green": {
        "en": "The records ({folder}) are on an encrypted device ({source}).",
        "fr": "Les dossiers ({folder}) sont sur un support chiffré ({source}).",
    },
    "health.encryption.amber": {
        "en": "The records ({folder}) are on {source}, which is not encrypted: a lost or stolen card opens every "
        "patient on it, key included. Put them on a LUKS partition whose key is not on the card (README, "
        "“A lost or stolen device”).",
        "fr": "Les dossiers ({folder}) sont sur {source}, qui n'est pas chiffré : une carte perdue ou volée livre "
        "tous les patients qu'elle contient, clé comprise. Placez-les sur une partition LUKS dont la clé n'est "
        "pas sur la carte (README, « A lost or stolen device »).",
    },
    "health.encryption.unknown": {
        "en": "Cannot tell whether the records ({folder}, on {source}, {fstype}) are on an encrypted device: "
        "check that it is LUKS with its key off the card (README, “A lost or stolen device”).",
        "fr": "Impossible de savoir si les dossiers ({folder}, sur {source}, {fstype}) sont sur un support "
        "chiffré : vérifiez qu'il s'agit de LUKS avec sa clé hors de la carte (README, « A lost or stolen device »).",
    },
    "health.tls.green": {
        "en": "TLS certificates valid; the first expires in {days} days ({path}).",
        "fr": "Certificats TLS valides ; le premier expire dans {days} jours ({path}).",
    },
    "health.tls.amber": {
        "en": "The TLS certificate {path} expires in {days} days: issue and install a new one.",
        "fr": "Le certificat TLS {path} expire dans {days} jours : installez-en un nouveau.",
    },
    "health.tls.red": {
        "en": "The TLS certificate {path} is not valid now ({days} days to expiry): the broker refuses this "
        "device. Install a new certificate, or set the clock.",
        "fr": "Le certificat TLS {path} n'est pas valide maintenant ({days} jours avant expiration) : le serveur "
        "refuse cet appareil. Installez un nouveau certificat, ou réglez l'horloge.",
    },
    "health.tls.none": {
        "en": "No TLS: results go to the broker unencrypted. Set [sync] tls_ca_file and the device certificate.",
        "fr": "Pas de TLS : les résultats partent en clair. Réglez [sync] tls_ca_file et le certificat.",
    },
    "health.tls.another_device": {
        "en": "The TLS certificate {path} is {owner}'s (its CN), not this device's, {device}: the broker takes "
        "results under the certificate's name and refuses every one this device sends. Install the certificate "
        "issued for {device} and its key as [sync] tls_cert_file and tls_key_file, then restart edgescreen-sync.",
        "fr": "Le certificat TLS {path} est celui de {owner} (son CN), pas celui de cet appareil, {device} : le "
        "serveur prend les résultats sous le nom du certificat et refuse tous ceux de cet appareil. Installez le "
        "certificat émis pour {device} et sa clé comme [sync] tls_cert_file et tls_key_file, puis redémarrez "
        "edgescreen-sync.",
    },
    "health.tls.no_common_name": {
        "en": "The TLS certificate {path} has no common name (CN): the broker gives it no name and refuses every "
        "result this device sends. Install the certificate issued for {device} and its key as [sync] "
        "tls_cert_file and tls_key_file, then restart edgescreen-sync.",
        "fr": "Le certificat TLS {path} n'a pas de nom commun (CN) : le serveur ne lui donne aucun nom et refuse "
        "tous les résultats de cet appareil. Installez le certificat émis pour {device} et sa clé comme [sync] "
        "tls_cert_file et tls_key_file, puis redémarrez edgescreen-sync.",
    },
    "health.tls.unusable": {
        "en": "The sync worker cannot use its TLS files (edgescreen doctor logs why). Install this device's own "
        "certificate and key, then restart edgescreen-sync.",
        "fr": "Le service de synchronisation ne peut pas utiliser ses fichiers TLS (le journal d'edgescreen doctor "
        "dit pourquoi). Installez le certificat et la clé propres à cet appareil, puis redémarrez edgescreen-sync.",
    },
    "health.tls.exposed": {
        "en": "The device's TLS key {path} is readable by others (mode {mode}): run chmod 600 on it, then restart "
        "edgescreen-sync.",
        "fr": "La clé TLS de l'appareil {path} est lisible par d'autres (mode {mode}) : faites chmod 600, puis "
        "redémarrez edgescreen-sync.",
    },
    "health.tls.unreadable": {
        "en": "The TLS file {path} cannot be read as a certificate: install it again (edgescreen doctor logs why).",
        "fr": "Le fichier TLS {path} n'est pas un certificat lisible : installez-le à nouveau (le journal "
        "d'edgescreen doctor dit pourquoi).",
    },
    "health.app_tls.green": {
        "en": "The app answers this device alone ([app] bind {bind}): no PIN crosses the network.",
        "fr": "L'application ne répond qu'à cet appareil ([app] bind {bind}) : aucun code ne passe par le réseau.",
    },
    "health.app_tls.https": {
        "en": "Tablets sign in over HTTPS (port {port}): PINs never cross the network in clear.",
        "fr": "Les tablettes se connectent en HTTPS (port {port}) : les codes ne passent jamais en clair sur le "
        "réseau.",
    },
    # Also what ``edgescreen app`` says, and its out-of-service page shows, as it refuses to start on such a bind.
    "health.app_tls.red": {
        "en": "The app is set open to the network ([app] bind {bind}) over plain HTTP: patient data (references, "
        "results, photos) and the PINs typed on tablets would cross it in clear, so the app does not start. Set "
        '[app] tls_cert_file and tls_key_file (HTTPS for tablets: the README says how), or bind = "127.0.0.1".',
        "fr": "L'application est réglée ouverte au réseau ([app] bind {bind}) en HTTP simple : les données des "
        "patients (références, résultats, photos) et les codes tapés sur les tablettes y passeraient en clair, "
        "donc l'application ne démarre pas. Réglez [app] tls_cert_file et tls_key_file (HTTPS pour les "
        'tablettes : le README explique comment), ou bind = "127.0.0.1".',
    },
    # The dates of the app's certificate for tablets (``check_app_certificate``); the README's "HTTPS for
    # tablets" gives the openssl steps that issue the next one from the site's CA.
    "health.app_certificate.green": {
        "en": "The app's certificate for tablets is valid; it expires in {days} days ({path}).",
        "fr": "Le certificat de l'application pour les tablettes est valide ; il expire dans {days} jours ({path}).",
    },
    "health.app_certificate.amber": {
        "en": "The app's certificate for tablets {path} expires in {days} days: issue a new one from the site's CA "
        "(the README says how), install it, then restart the app.",
        "fr": "Le certificat de l'application pour les tablettes {path} expire dans {days} jours : faites-en émettre "
        "un nouveau par l'autorité du site (le README explique comment), installez-le, puis redémarrez "
        "l'application.",
    },
    "health.app_certificate.red": {
        "en": "The app's certificate for tablets {path} is not valid now ({days} days to expiry): tablets refuse "
        "the app. Issue a new one from the site's CA (the README says how) and install it, or set the clock.",
        "fr": "Le certificat de l'application pour les tablettes {path} n'est pas valide maintenant ({days} jours "
        "avant expiration) : les tablettes refusent l'application. Faites-en émettre un nouveau par l'autorité du "
        "site (le README explique comment) et installez-le, ou réglez l'horloge.",
    },
    "health.app_certificate.unreadable": {
        "en": "The app's certificate for tablets {path} cannot be read as a certificate: install it again "
        "(edgescreen doctor logs why).",
        "fr": "Le certificat de l'application pour les tablettes {path} n'est pas un certificat lisible : "
        "installez-le à nouveau (le journal d'edgescreen doctor dit pourquoi).",
    },
    "health.verdicts.green.one": {
        "en": "Verdicts are taken only when signed by the review station ({count} key).",
        "fr": "Les avis ne sont acceptés que signés par le poste de relecture ({count} clé).",
    },
    "health.verdicts.green.other": {
        "en": "Verdicts are taken only when signed by the review station ({count} keys).",
        "fr": "Les avis ne sont acceptés que signés par le poste de relecture ({count} clés).",
    },
    "health.verdicts.none": {
        "en": "No verdict key: any verdict the broker delivers is taken unchecked. Set [sync] "
        "verdict_public_keys to the review station's verdict public key.",
        "fr": "Pas de clé des avis : tout avis livré par le serveur est accepté sans contrôle. Réglez [sync] "
        "verdict_public_keys sur la clé publique des avis du poste de relecture.",
    },
    "health.verdicts.red": {
        "en": "The verdict key {path} cannot be used: no verdict is stored until it is replaced (edgescreen doctor "
        "logs why).",
        "fr": "La clé des avis {path} est inutilisable : aucun avis n'est enregistré avant son remplacement (le "
        "journal d'edgescreen doctor dit pourquoi).",
    },
    "patient.title": {"en": "New patient", "fr": "Nouveau patient"},
    "patient.reference": {"en": "Patient reference", "fr": "Référence du patient"},
    "patient.what": {"en": "What are you screening?", "fr": "Que dépistez-vous ?"},
    "patient.eyes": {"en": "Eyes (retina)", "fr": "Yeux (rétine)"},
    "patient.which_eyes": {"en": "Which eyes?", "fr": "Quels yeux ?"},
    "patient.facing": {"en": "As you face the patient", "fr": "Face au patient"},
    "patient.next": {"en": "Next", "fr": "Suivant"},
    "patient.skin": {"en": "A skin lesion", "fr": "Une lésion de la peau"},
    "patient.where": {"en": "Where is the lesion?", "fr": "Où est la lésion ?"},
    "patient.consent": {
        "en": "The patient agrees to the screening and to the photos being kept on this device.",
        "fr": "Le patient accepte le dépistage et la conservation des photos sur cet appareil.",
    },
    "patient.start": {"en": "Start", "fr": "Commencer"},
    "patient.scan": {"en": "Scan a code", "fr": "Scanner un code"},
    "scan.title": {
        "en": "Hold the patient's QR code or barcode in front of the camera.",
        "fr": "Présentez le QR code ou le code-barres du patient devant la caméra.",
    },
    "patient.need_reference": {"en": "Type the patient reference.", "fr": "Tapez la référence du patient."},
    # Text typed with an invisible character the shared rule refuses (edgescreen_wire.typed_text):
    # ``what`` is one of the "typed.what.*" below, ``code`` "U+202E", ``place`` 1 for the first character.
    # One line on the 800x480 screen, above the field it names.
    "typed.control": {
        "en": "Invisible character {code} (character {place}) in {what}: remove it.",
        "fr": "Caractère invisible {code} (position {place}) dans {what} : retirez-le.",
    },
    "typed.what.reference": {"en": "the reference", "fr": "la référence"},
    "typed.what.name": {"en": "the name", "fr": "le nom"},
    "typed.what.patient": {"en": "the patient reference", "fr": "la référence du patient"},
    "typed.what.note": {"en": "the note", "fr": "la note"},
    "typed.what.text": {"en": "the text", "fr": "le texte"},
    # A value typed on the command line that its argument refuses (``typed_argument.Refused``); ``value``
    # is the text as typed, quoted. argparse names the argument before it ("argparse.argument").
    "argument.port": {
        "en": "{value} is not a port number (1 to 65535)",
        "fr": "{value} n'est pas un numéro de port (1 à 65535)",
    },
    "argument.at_least_one": {
        "en": "{value}: expected a whole number of 1 or more",
        "fr": "{value} : un nombre entier d'au moins 1 est attendu",
    },
    "argument.board": {
        "en": "expected inner corners as COLUMNSxROWS, e.g. 9x6, got {value}",
        "fr": "coins intérieurs attendus sous la forme COLONNESxLIGNES, par exemple 9x6, et non {value}",
    },
    "argument.millimetres": {
        "en": "expected a size in millimetres greater than 0, got {value}",
        "fr": "taille en millimètres supérieure à 0 attendue, et non {value}",
    },
    # argparse's own refusals of a command line (``typed_argument.speaking``): the English is argparse's
    # message id, word for word, and both keep its %-placeholders, which argparse fills.
    "argparse.error": {"en": "%(prog)s: error: %(message)s\n", "fr": "%(prog)s: erreur : %(message)s\n"},
    "argparse.argument": {
        "en": "argument %(argument_name)s: %(message)s",
        "fr": "argument %(argument_name)s : %(message)s",
    },
    "argparse.unrecognized": {"en": "unrecognized arguments: %s", "fr": "arguments non reconnus : %s"},
    "argparse.required": {
        "en": "the following arguments are required: %s",
        "fr": "ces arguments sont obligatoires : %s",
    },
    "argparse.one_of_required": {
        "en": "one of the arguments %s is required",
        "fr": "l'un des arguments %s est obligatoire",
    },
    "argparse.not_allowed_with": {"en": "not allowed with argument %s", "fr": "incompatible avec l'argument %s"},
    "argparse.invalid_value": {"en": "invalid %(type)s value: %(value)r", "fr": "valeur %(type)s invalide : %(value)r"},
    "argparse.invalid_choice": {
        "en": "invalid choice: %(value)r (choose from %(choices)s)",
        "fr": "choix invalide : %(value)r (au choix : %(choices)s)",
    },
    "argparse.expected_one": {"en": "expected one argument", "fr": "une valeur est attendue"},
    "argparse.expected_at_most_one": {"en": "expected at most one argument", "fr": "une valeur au plus est attendue"},
    "argparse.expected_at_least_one": {
        "en": "expected at least one argument",
        "fr": "au moins une valeur est attendue",
    },
    "argparse.ignored_explicit": {"en": "ignored explicit argument %r", "fr": "valeur %r ignorée"},
    "argparse.ambiguous": {
        "en": "ambiguous option: %(option)s could match %(matches)s",
        "fr": "option ambiguë : %(option)s peut être %(matches)s",
    },
    "patient.need_consent": {
        "en": "Confirm the patient's consent first.",
        "fr": "Confirmez d'abord le consentement du patient.",
    },
    "patient.need_site": {"en": "Choose where the lesion is.", "fr": "Choisissez où se trouve la lésion."},
    "patient.need_eye": {"en": "Choose at least one eye.", "fr": "Choisissez au moins un œil."},
    "body_site.head_neck": {"en": "Head, neck", "fr": "Tête, cou"},
    "body_site.trunk": {"en": "Trunk", "fr": "Tronc"},
    "body_site.upper_limb": {"en": "Arm", "fr": "Bras"},
    "body_site.lower_limb": {"en": "Leg", "fr": "Jambe"},
    "body_site.palms_soles": {"en": "Palm or sole", "fr": "Paume ou plante du pied"},
    "body_site.genital": {"en": "Genital", "fr": "Organes génitaux"},
    "body_site.other": {"en": "Other", "fr": "Autre"},
    "eye.R": {"en": "Right eye", "fr": "Œil droit"},
    "eye.L": {"en": "Left eye", "fr": "Œil gauche"},
    # Both eyes in one sentence ("result.finish_missing.other"), each named as the nurse chose them.
    "eyes.both": {"en": "Right eye and left eye", "fr": "Œil droit et œil gauche"},
    "modality.fundus": {"en": "Retina", "fr": "Rétine"},
    "modality.dermoscopy": {"en": "Skin lesion", "fr": "Lésion cutanée"},
    "capture.title": {"en": "Take the photo", "fr": "Prendre la photo"},
    "capture.shutter": {"en": "Take photo", "fr": "Photographier"},
    # The automatic shutter waits for the live verdict to pass (app.js, ``take``), whatever its reason;
    # "when sharp" stood under "Too dark", the reason beside it (guidance.py) is what to fix.
    "capture.auto": {
        "en": "Take it once the quality is good enough",
        "fr": "Déclencher dès que la qualité suffit",
    },
    "capture.starting": {"en": "Starting the camera...", "fr": "Démarrage de la caméra..."},
    "capture.working": {
        "en": "Taking the photos and checking them...",
        "fr": "Prise des photos et vérification...",
    },
    "capture.other_visit": {
        "en": "This screen was for another patient: another screen has opened a patient since. Nothing was "
        "saved. Tap Try again to go on with the patient open now.",
        "fr": "Cet écran était pour un autre patient : un autre écran a ouvert un patient depuis. Rien n'a "
        "été enregistré. Touchez Réessayer pour continuer avec le patient ouvert.",
    },
    "capture.in_use": {
        "en": "The camera is in use on another screen. Close that screen, then tap Try again.",
        "fr": "La caméra est utilisée sur un autre écran. Fermez cet écran, puis touchez Réessayer.",
    },
    # A screen opened before the photo now waiting was taken (a result screen's Next or "Retake this
    # one", the check screen of a photo used since, in another tab) posted Retake: the photo is kept.
    "capture.photo_waiting": {
        "en": "This screen is out of date: a photo taken since is waiting to be used, and it was kept. Tap "
        "Try again to see it, then use it or retake it.",
        "fr": "Cet écran n'est plus à jour : une photo prise depuis attend d'être utilisée, et elle a été "
        "gardée. Touchez Réessayer pour la voir, puis utilisez-la ou reprenez-la.",
    },
    # The camera of an eye or lesion already screened in this visit (Back from its result, or its
    # shutter posted again): the result screen's {button} is the one way to photograph it again.
    "capture.already_screened": {
        "en": "{slot}: already screened in this visit, and its result is recorded. Nothing more is taken "
        "here. Tap See its result; to photograph it again, tap {button} there.",
        "fr": "{slot} : dépistage déjà fait pendant cette visite, et son résultat est enregistré. Rien de "
        "plus n'est pris ici. Touchez Voir son résultat ; pour photographier à nouveau, touchez {button} "
        "sur cet écran.",
    },
    "capture.see_result": {"en": "See its result", "fr": "Voir son résultat"},
    "capture.lost": {
        "en": "This screen no longer has the camera: it was opened on another screen since. Tap Try again "
        "to use it here.",
        "fr": "Cet écran n'a plus la caméra : elle a été ouverte sur un autre écran depuis. Touchez Réessayer "
        "pour l'utiliser ici.",
    },
    "capture.try_again": {"en": "Try again", "fr": "Réessayer"},
    # An eye no photo can be taken of (closed, a small pupil, a cataract, an artificial eye): asked first,
    # then recorded as not photographed, ungradable, so referred (pages_capture, ``not_photographed``).
    "capture.not_photographed": {"en": "Cannot photograph this eye", "fr": "Œil impossible à photographier"},
    # A lesion with no photo records nothing: this leads to what finishing the patient does (leave_visit.html).
    "capture.lesion_way_out": {"en": "Cannot photograph this lesion", "fr": "Lésion impossible à photographier"},
    # The camera of a slot chosen to photograph again (web/visit.py, ``retaking``): back to its result, which
    # stands until another photo is used ("Retake this one" pressed by mistake).
    "capture.keep_earlier": {"en": "Keep the earlier photo", "fr": "Garder la photo précédente"},
    # The same for an eye recorded as impossible to photograph ("Photograph it after all"): no photo to
    # keep, its result screen's heading.
    "capture.keep_not_photographed": {"en": "Keep “{heading}”", "fr": "Garder « {heading} »"},
    "not_photographed.question": {
        "en": "{eye}: record it as impossible to photograph?",
        "fr": "{eye} : l'enregistrer comme impossible à photographier ?",
    },
    "not_photographed.referred": {
        "en": "Nothing is photographed: the patient is referred, and a specialist must examine this eye.",
        "fr": "Aucune photo n'est prise : le patient est adressé, et un spécialiste doit examiner cet œil.",
    },
    # Asked on a retake of an eye graded "no referral": recorded so, the graded result stands (slot_outcome).
    "not_photographed.earlier_stands": {
        "en": "Nothing more is photographed: an earlier photo of this eye was graded, and its result stands; "
        "the patient is not referred for this eye.",
        "fr": "Aucune autre photo n'est prise : une photo précédente de cet œil a été interprétée, et son "
        "résultat est retenu ; le patient n'est pas adressé pour cet œil.",
    },
    "not_photographed.confirm": {
        "en": "Record as impossible to photograph",
        "fr": "Enregistrer comme impossible à photographier",
    },
    "not_photographed.back": {"en": "Back to the camera", "fr": "Retour à la caméra"},
    # Unanswered, it may have been recorded: a tap again records nothing twice (``taken``).
    "not_photographed.no_answer": {
        "en": "The device did not answer: {eye} may have been recorded as impossible to photograph. Tap "
        "“{button}” again to see its result; it is never recorded twice.",
        "fr": "L'appareil n'a pas répondu : {eye} a peut-être été enregistré comme impossible à photographier. "
        "Touchez de nouveau « {button} » pour voir son résultat ; il n'est jamais enregistré deux fois.",
    },
    "capture.no_visit": {
        "en": "Start with the patient: no patient is open.",
        "fr": "Commencez par le patient : aucun patient n'est ouvert.",
    },
    "check.title": {"en": "Check the photo", "fr": "Vérifiez la photo"},
    "check.use": {"en": "Use this photo", "fr": "Utiliser cette photo"},
    "check.use_ungradable": {"en": "Record as not gradable", "fr": "Enregistrer comme ininterprétable"},
    "check.retake": {"en": "Retake", "fr": "Reprendre"},
    # "Use this photo" got no answer: the device may have recorded it before the connection dropped.
    # A tap again is safe: a photo already used is answered with its result, never recorded twice.
    "check.no_answer": {
        "en": "The device did not answer: this photo may have been recorded. Tap “{button}” again to see "
        "its result; it is never recorded twice. Asked to sign in again? Look at Today before taking it again.",
        "fr": "L'appareil n'a pas répondu : cette photo a peut-être été enregistrée. Touchez de nouveau "
        "« {button} » pour voir son résultat ; elle n'est jamais enregistrée deux fois. Vous devez vous "
        "reconnecter ? Regardez Aujourd'hui avant de la reprendre.",
    },
    "check.zoom": {
        "en": "Tap or pinch the photo to zoom in.",
        "fr": "Touchez ou pincez la photo pour zoomer.",
    },
    "result.title": {"en": "Result", "fr": "Résultat"},
    # The result in a few words (result screen, hand-out, Today), then on the result screen what the
    # nurse does next, which never repeats the heading.
    "result.heading.refer": {"en": "Refer to a specialist", "fr": "Adresser à un spécialiste"},
    "result.heading.no_refer": {"en": "No referral needed now", "fr": "Pas d'orientation pour l'instant"},
    "result.heading.ungradable": {"en": "Could not be graded", "fr": "Ininterprétable"},
    "result.another_lesion": {"en": "Another lesion", "fr": "Autre lésion"},
    "result.action.refer": {
        "en": "Arrange the referral with the patient.",
        "fr": "Organisez l'orientation avec le patient.",
    },
    "result.action.no_refer": {
        "en": "Rescreen at the usual interval.",
        "fr": "Nouveau dépistage à l'intervalle habituel.",
    },
    "result.action.ungradable": {
        "en": "Retake the photo, or refer for a manual examination.",
        "fr": "Reprenez la photo, ou adressez pour un examen manuel.",
    },
    "result.disclaimer": {
        "en": "Triage aid only, not a diagnosis: a specialist validates every result.",
        "fr": "Aide au tri uniquement, pas un diagnostic : un spécialiste valide chaque résultat.",
    },
    "result.performance": {
        "en": "At this setting the model finds {sensitivity}% of those who need referral (sensitivity) and "
        "clears {specificity}% of those who do not (specificity).",
        "fr": "À ce réglage, le modèle repère {sensitivity} % des personnes à adresser (sensibilité) et écarte "
        "{specificity} % des autres (spécificité).",
    },
    "result.patient": {"en": "Patient's outcome:", "fr": "Résultat du patient :"},
    "result.slot_heading": {"en": "{slot}: {heading}", "fr": "{slot} : {heading}"},
    "result.next": {"en": "Next: {eye}", "fr": "Suivant : {eye}"},
    "result.retake": {"en": "Retake this one", "fr": "Reprendre celle-ci"},
    # "Retake this one" under an eye recorded as impossible to photograph: back to the camera for it.
    "result.photograph_after_all": {"en": "Photograph it after all", "fr": "Le photographier finalement"},
    "result.handout": {"en": "Hand-out", "fr": "Document patient"},
    "result.finish": {"en": "Finish", "fr": "Terminer"},
    "result.pending": {"en": "Not photographed yet", "fr": "Pas encore photographié"},
    # "Finish" with eyes not photographed (result.html): every one of them named, "eyes.both" for two.
    "result.finish_missing.one": {
        "en": "{eyes} not photographed \u2013 finish anyway?",
        "fr": "{eyes} non photographié \u2013 terminer quand même ?",
    },
    "result.finish_missing.other": {
        "en": "{eyes} not photographed \u2013 finish anyway?",
        "fr": "{eyes} non photographiés \u2013 terminer quand même ?",
    },
    # The same with no result of the visit left (the review station erased them): nothing names the
    # patient, so Today lists no eye to call back (``worklist._not_photographed``), and she is told so.
    "result.finish_unlisted": {
        "en": "No result of this visit is kept: nothing goes on Today to call back.",
        "fr": "Aucun résultat de la visite n'est gardé : rien ne sera inscrit dans Aujourd'hui.",
    },
    "result.finish_anyway": {"en": "Finish anyway", "fr": "Terminer quand même"},
    # A result screen's button got no answer (app.js, sayNoAnswer): "nothing was recorded" alone, under
    # a result, read as that result lost, and a photo taken again would be a second result.
    "result.no_answer": {
        "en": "The device did not answer. This result is recorded; nothing else was. Wait a moment, then tap "
        "your choice again.",
        "fr": "L'appareil n'a pas répondu. Ce résultat est enregistré ; rien d'autre ne l'a été. Attendez un "
        "instant, puis touchez de nouveau votre choix.",
    },
    # "Finish anyway" got no answer: the device may have listed the eye as not photographed (audited)
    # and closed the visit; a tap again finds the visit closed and lists nothing twice. Said as the other
    # no-answer alerts say it; three lines in French at 800x480, for which the result screen keeps room
    # (app.css), the patient's outcome and the disclaimer in view above the question.
    "result.finish_no_answer": {
        "en": "The device did not answer: {eye} may have been listed on Today as not photographed. Tap "
        "“{button}” again; it is never listed twice.",
        "fr": "L'appareil n'a pas répondu : {eye} a peut-être été inscrit dans Aujourd'hui comme non "
        "photographié. Touchez de nouveau « {button} » ; il n'est jamais inscrit deux fois.",
    },
    # The same with no result of the visit left ("result.finish_unlisted"): no eye to have been listed.
    "result.finish_no_answer_unlisted": {
        "en": "The device did not answer: this visit may have been finished. Tap “{button}” again.",
        "fr": "L'appareil n'a pas répondu : cette visite a peut-être été terminée. Touchez de nouveau « {button} ».",
    },
    "result.earlier_stands.refer": {
        "en": "{slot}: this photo reads “{this}”, but an earlier photo indicated a referral, and a retake "
        "does not clear it; the specialist receives every result.",
        "fr": "{slot} : cette photo indique « {this} », mais une photo précédente indiquait d'adresser le "
        "patient, et une reprise ne l'annule pas ; le spécialiste reçoit tous les résultats.",
    },
    "result.earlier_stands.no_refer": {
        "en": "{slot}: this photo reads “{this}”; an earlier photo was graded, and its result stands.",
        "fr": "{slot} : cette photo indique « {this} » ; une photo précédente a été interprétée, et son "
        "résultat est retenu.",
    },
    # The same, after a retake recorded as impossible to photograph: no photo for "this photo" to be.
    "result.earlier_stands.refer_not_photographed": {
        "en": "{slot}: recorded as impossible to photograph, but an earlier photo indicated a referral, "
        "and it stands; the specialist receives every result.",
        "fr": "{slot} : enregistré comme impossible à photographier, mais une photo précédente indiquait "
        "d'adresser le patient, et cela reste ; le spécialiste reçoit tous les résultats.",
    },
    "result.earlier_stands.no_refer_not_photographed": {
        "en": "{slot}: recorded as impossible to photograph; an earlier photo was graded, and its result stands.",
        "fr": "{slot} : enregistré comme impossible à photographier ; une photo précédente a été interprétée, "
        "et son résultat est retenu.",
    },
    # Today's eye left by "Finish anyway" (records/worklist.py): no result, the patient to call back for it;
    # said apart from an eye that could not be photographed, recorded and referred ("cannot_photograph").
    "result.heading.not_photographed": {
        "en": "Not photographed yet: call back",
        "fr": "Pas encore photographié : à rappeler",
    },
    # Today's eye not photographed by a visit the app lost before it was finished (a restart mid-visit).
    "result.heading.visit_not_finished": {
        "en": "Visit not finished: call back",
        "fr": "Visite non terminée : à rappeler",
    },
    # Today's eye not photographed by a visit a restored backup held open: it may have been photographed
    # after the backup (the records after it are lost), so it is still called back, said where it comes from.
    "result.heading.visit_in_backup": {
        "en": "Visit not finished in the restored backup: call back",
        "fr": "Visite non terminée dans la sauvegarde restaurée : à rappeler",
    },
    "result.heading.cannot_photograph": {"en": "Could not be photographed", "fr": "Impossible à photographier"},
    "result.action.cannot_photograph": {
        "en": "This eye could not be photographed: a specialist must examine it. Arrange the referral with the "
        "patient.",
        "fr": "Cet œil n'a pas pu être photographié : un spécialiste doit l'examiner. Organisez l'orientation avec "
        "le patient.",
    },
    # The result screen of a slot whose every result the review station's notice erased while its visit
    # was open (a wrong photo its administrator erased there; web/visit.py, ``Visit.forget``).
    "result.heading.erased": {"en": "Result erased", "fr": "Résultat supprimé"},
    "result.action.erased": {
        "en": "The review station erased this result: nothing of it is kept on this device, nor given on the "
        "hand-out. Photograph it again, or finish.",
        "fr": "Le poste de relecture a supprimé ce résultat : rien n'en est gardé sur l'appareil, ni donné "
        "sur le document patient. Photographiez à nouveau, ou terminez.",
    },
    "result.photograph_again": {"en": "Photograph it again", "fr": "Photographier à nouveau"},
    # The same, of a slot that keeps other results (it stands at those), or of another slot than the one shown.
    "result.erased": {
        "en": "{slot}: the review station erased a result; nothing of it is kept on this device, nor given "
        "on the hand-out.",
        "fr": "{slot} : le poste de relecture a supprimé un résultat ; rien n'en est gardé sur l'appareil, ni "
        "donné sur le document patient.",
    },
    # The same for both eyes, in one line ("eyes.both"): beside the camera and the check screen's photo,
    # in French, a line for each pushed the shutter and "Use this photo" off the 800x480 screen.
    "result.erased_both": {
        "en": "{eyes}: results erased by the review station; nothing of them is kept on this device, nor "
        "given on the hand-out.",
        "fr": "{eyes} : résultats supprimés par le poste de relecture ; rien n'en est gardé sur l'appareil, "
        "ni donné sur le document patient.",
    },
    "sync.nothing": {"en": "Nothing to send", "fr": "Rien à envoyer"},
    "patient_outcome.refer": {
        "en": "refer to a specialist, as at least one eye needs it or could not be graded.",
        "fr": "adresser à un spécialiste, car au moins un œil le nécessite ou n'a pas pu être interprété.",
    },
    "patient_outcome.no_refer": {
        "en": "no referral needed now for either eye; rescreen at the usual interval.",
        "fr": "pas d'orientation pour l'instant, pour aucun des deux yeux ; nouveau dépistage à l'intervalle habituel.",
    },
    "patient_outcome.no_refer_one_eye": {
        "en": "no referral needed now for this eye (the only one screened); rescreen at the usual interval.",
        "fr": "pas d'orientation pour l'instant pour cet œil (le seul dépisté) ; nouveau dépistage à l'intervalle "
        "habituel.",
    },
    "patient_outcome.pending": {
        "en": "not complete until the other eye is photographed.",
        "fr": "incomplet tant que l'autre œil n'est pas photographié.",
    },
    # The same with no eye of the visit holding a result (the review station erased the only one): there
    # is no "other eye" to wait for, every eye chosen is still to photograph.
    "patient_outcome.pending_no_result": {
        "en": "no eye has a result yet.",
        "fr": "aucun œil n'a encore de résultat.",
    },
    "handout.title": {"en": "Screening result", "fr": "Résultat du dépistage"},
    "handout.print": {"en": "Print", "fr": "Imprimer"},
    "handout.with_reference": {"en": "Print the patient reference", "fr": "Imprimer la référence du patient"},
    "handout.reference": {"en": "Patient reference: {reference}", "fr": "Référence du patient : {reference}"},
    "handout.date": {"en": "Date: {date}", "fr": "Date : {date}"},
    "handout.lesion_photo": {
        "en": "The lesion this result is about:",
        "fr": "La lésion dont parle ce résultat :",
    },
    "handout.next_step.refer": {
        "en": "Next step: you will be referred to a specialist. Keep this page and bring it to the appointment.",
        "fr": "Étape suivante : vous serez adressé(e) à un spécialiste. Gardez cette page pour le rendez-vous.",
    },
    "handout.next_step.no_refer": {
        "en": "Next step: come back for screening at the usual interval, or sooner if anything changes.",
        "fr": "Étape suivante : revenez au dépistage à l'intervalle habituel, ou plus tôt si quelque chose change.",
    },
    "handout.not_photographed": {
        "en": "This eye could not be photographed: a specialist must examine it.",
        "fr": "Cet œil n'a pas pu être photographié : un spécialiste doit l'examiner.",
    },
    # An eye whose every result the review station erased while the visit was open (web/visit.py,
    # ``Visit.forget``): photographed, so not "not photographed yet"; no result of it is given, and it is
    # photographed again, now or when Today calls the patient back.
    "handout.erased": {
        "en": "No result: to be photographed again",
        "fr": "Pas de résultat : à photographier à nouveau",
    },
    "handout.next_step.pending": {
        "en": "Next step: the screening is not complete; the nurse will tell you what follows.",
        "fr": "Étape suivante : le dépistage n'est pas complet ; l'infirmier(ère) vous dira la suite.",
    },
    "today.title": {"en": "Today's screenings", "fr": "Dépistages du jour"},
    "today.all": {"en": "All", "fr": "Tous"},
    "today.mine": {"en": "Mine", "fr": "Les miens"},
    "today.with_verdict": {"en": "Verdict received", "fr": "Avis reçu"},
    "today.empty": {"en": "No screenings to show.", "fr": "Aucun dépistage à afficher."},
    "today.time": {"en": "Time", "fr": "Heure"},
    # Beside a time the device's clock had not been set for (records/clock.py): it may be off by days.
    "today.clock_not_set": {"en": "clock not set", "fr": "horloge non réglée"},
    # What was screened: an eye, a lesion's body site, or the kind of photo. Not "Photo": Today lists an eye
    # that could not be photographed, and "Finish anyway"'s eye not photographed yet, under it too. In French
    # not "Site" (a web site, or the campaign's site) but "Zone", as short: "Localisation" widened the column,
    # and Today's rows of a clock not set ran past the screen's foot.
    "today.what": {"en": "Site", "fr": "Zone"},
    "today.triage": {"en": "Triage", "fr": "Tri"},
    "today.sync": {"en": "Sent?", "fr": "Envoyé ?"},
    "today.verdict": {"en": "Specialist", "fr": "Spécialiste"},
    "sync.queued": {"en": "Waiting to send", "fr": "En attente d'envoi"},
    "sync.sent": {"en": "Sent, not yet confirmed", "fr": "Envoyé, pas encore confirmé"},
    "sync.acknowledged": {"en": "Received by the server", "fr": "Reçu par le serveur"},
    # Deleted unsent from the full outbox ([sync] overflow_policy = "drop_oldest"); the result stays here.
    "sync.dropped": {
        "en": "Never sent: deleted from the full outbox, kept on this device only",
        "fr": "Jamais envoyé : supprimé de la file d'envoi pleine, conservé sur cet appareil seulement",
    },
    # ``sync run --until-drained`` with nothing else left to send: {count} queued erasure requests the
    # broker at {broker} refused (an ACL older than the erasure topic); they stay queued.
    "sync.erasures_refused.one": {
        "en": "The broker at {broker} refuses {count} patient's erasure request, which stays queued: install "
        "this release's broker/acl on the site broker (it lets each device publish on its erasure topic), "
        "then run edgescreen sync run --until-drained again.",
        "fr": "Le serveur du site {broker} refuse {count} demande d'effacement de patient, qui reste en file : "
        "installez le broker/acl de cette version sur le serveur du site (il permet à chaque appareil de "
        "publier sur son sujet erasure), puis relancez edgescreen sync run --until-drained.",
    },
    "sync.erasures_refused.other": {
        "en": "The broker at {broker} refuses {count} patients' erasure requests, which stay queued: install "
        "this release's broker/acl on the site broker (it lets each device publish on its erasure topic), "
        "then run edgescreen sync run --until-drained again.",
        "fr": "Le serveur du site {broker} refuse {count} demandes d'effacement de patients, qui restent en "
        "file : installez le broker/acl de cette version sur le serveur du site (il permet à chaque appareil "
        "de publier sur son sujet erasure), puis relancez edgescreen sync run --until-drained.",
    },
    # Why the worker's last connection failed, and what the technician does (``sync.failure``): said by
    # ``sync status`` and after doctor's broker line (``wording.check_sentence``).
    "sync.failure.tls_verify": {
        "en": "TLS certificate verify failed: this device does not trust the site server's certificate. "
        "Technician: [sync] tls_ca_file must be the site CA's ca.crt, and [sync] broker_host a name on the "
        "broker's certificate.",
        "fr": "Échec de la vérification du certificat TLS : cet appareil ne fait pas confiance au certificat du "
        "serveur du site. Technicien : [sync] tls_ca_file doit être le ca.crt de l'autorité du site, et "
        "[sync] broker_host un nom que porte le certificat du serveur.",
    },
    "sync.failure.tls_refused": {
        "en": "The site server refuses this device's certificate: it closed the connection without answering. "
        "Technician: install a certificate the site CA issued to this device, neither revoked nor expired "
        "([sync] tls_cert_file and tls_key_file).",
        "fr": "Le serveur du site refuse le certificat de cet appareil : il a fermé la connexion sans répondre. "
        "Technicien : installez un certificat délivré à cet appareil par l'autorité du site, ni révoqué ni "
        "expiré ([sync] tls_cert_file et tls_key_file).",
    },
    "sync.failure.tls_handshake": {
        "en": "The site server cut the connection before any TLS answer on that port. Technician: check that "
        "[sync] broker_port is the broker's TLS port, 8883 by default (broker/mosquitto.conf), not a plain one "
        "(1883), then whether a firewall or the broker's connection limit cuts it.",
        "fr": "Le serveur du site a coupé la connexion avant toute réponse TLS sur ce port. Technicien : vérifiez "
        "que [sync] broker_port est le port TLS du serveur, 8883 par défaut (broker/mosquitto.conf), et non un "
        "port sans TLS (1883), puis si un pare-feu ou la limite de connexions du serveur la coupe.",
    },
    "sync.failure.not_authorised": {
        "en": "The site server refuses this device: not authorised. Technician: the certificate's common name "
        "must be this device's [device] id, and the site broker's ACL (broker/acl) must allow it.",
        "fr": "Le serveur du site refuse cet appareil : non autorisé. Technicien : le nom commun du certificat "
        "doit être le [device] id de cet appareil, et l'ACL du serveur du site (broker/acl) doit l'autoriser.",
    },
    "sync.failure.connection_refused": {
        "en": "Connection refused: nothing answers at the site server's address. Technician: check [sync] "
        "broker_host and broker_port, and that the broker (mosquitto) is running.",
        "fr": "Connexion refusée : rien ne répond à l'adresse du serveur du site. Technicien : vérifiez [sync] "
        "broker_host et broker_port, et que le serveur (mosquitto) fonctionne.",
    },
    "sync.failure.name_unresolved": {
        "en": "Name not resolved: this device's network does not know the site server's name. Technician: "
        "check [sync] broker_host and the network's DNS.",
        "fr": "Nom non résolu : le réseau de cet appareil ne connaît pas le nom du serveur du site. "
        "Technicien : vérifiez [sync] broker_host et le DNS du réseau.",
    },
    "sync.failure.timed_out": {
        "en": "Timed out: the site server did not answer. Technician: check the network and any firewall "
        "between this device and [sync] broker_host.",
        "fr": "Délai dépassé : le serveur du site n'a pas répondu. Technicien : vérifiez le réseau et tout "
        "pare-feu entre cet appareil et [sync] broker_host.",
    },
    # Withheld by the sync worker: its payload no longer matches what was recorded (altered on the card).
    "sync.withheld": {
        "en": "Never sent: altered on this device. Call the technician",
        "fr": "Jamais envoyé : modifié sur cet appareil. Appelez le technicien",
    },
    "verdict.refer": {"en": "Specialist: refer", "fr": "Spécialiste : adresser"},
    "verdict.no_refer": {"en": "Specialist: no referral", "fr": "Spécialiste : pas d'orientation"},
    "verdict.ungradable": {"en": "Specialist: not gradable", "fr": "Spécialiste : ininterprétable"},
    "verdict.call_back.refer": {
        "en": "Specialist: refer. Call the patient back",
        "fr": "Spécialiste : adresser. Rappelez le patient",
    },
    "verdict.call_back.ungradable": {
        "en": "Specialist: not gradable. Call the patient back for another photo",
        "fr": "Spécialiste : ininterprétable. Rappelez le patient pour une nouvelle photo",
    },
    # A referral or "not gradable" the specialist marks urgent, or "soon", whatever the device triaged:
    # the nurse arranged a routine referral at best, and must bring it forward (one badge: it names the
    # urgency, the specialist's verdict is on the record).
    "verdict.call_back.urgent": {
        "en": "Specialist asks for an urgent referral. Contact the patient",
        "fr": "Le spécialiste demande une orientation urgente. Contactez le patient",
    },
    "verdict.call_back.soon": {
        "en": "Specialist asks for a referral soon. Contact the patient",
        "fr": "Le spécialiste demande d'adresser le patient prochainement. Contactez-le",
    },
    # A referral of a photo the device could not grade: the patient was told to be referred, unless a
    # retake replaced the photo and came back "no referral" (records/verdicts.py).
    "verdict.call_back.refer_unless_referred": {
        "en": "Specialist: refer. Call the patient back unless already referred",
        "fr": "Spécialiste : adresser. Rappelez le patient s'il n'a pas déjà été orienté",
    },
    # A "no referral" of a patient the device referred: told so at the visit, they wait for a referral
    # the nurse arranged then (records/verdicts.py); one of their other eyes or lesions may still need it.
    "verdict.call_back.no_refer": {
        "en": "Specialist: no referral. Tell the patient; cancel the referral if nothing else needs it",
        "fr": "Spécialiste : pas d'orientation. Prévenez le patient ; annulez l'orientation sauf autre motif",
    },
    # A "no referral" of a photo the device could not grade (or of an eye it could not photograph): the
    # patient was told to be referred for it, unless a retake replaced the photo (records/verdicts.py).
    "verdict.call_back.no_refer_if_referred": {
        "en": "Specialist: no referral. Tell the patient if referred for an unreadable photo",
        "fr": "Spécialiste : pas d'orientation. Prévenez le patient s'il a été orienté faute de photo lisible",
    },
    "verdict.none": {"en": "No verdict yet", "fr": "Pas encore d'avis"},
    # After a call-back's words on Today once someone opened its record (no longer on the banner).
    "today.call_back_opened": {"en": "record opened", "fr": "dossier ouvert"},
    # A specialist's read as edgescreen.review/2 carries it: how soon, and what was found. One word per
    # urgency wherever the nurse reads it: the call-back badges and the banner say the same (French Today
    # said "orientation rapide" beside the record's "Prochainement").
    "urgency.routine": {"en": "Routine", "fr": "Non urgent"},
    "urgency.soon": {"en": "Soon", "fr": "Prochainement"},
    "urgency.urgent": {"en": "Urgent", "fr": "Urgent"},
    "finding.icdr_grade": {"en": "ICDR grade: {value}", "fr": "Grade ICDR : {value}"},
    "finding.icdr_grade.none": {"en": "no retinopathy", "fr": "pas de rétinopathie"},
    "finding.icdr_grade.mild": {"en": "mild", "fr": "légère"},
    "finding.icdr_grade.moderate": {"en": "moderate", "fr": "modérée"},
    "finding.icdr_grade.severe": {"en": "severe", "fr": "sévère"},
    "finding.icdr_grade.proliferative": {"en": "proliferative", "fr": "proliférante"},
    "finding.icdr_grade.ungradable": {"en": "not gradable", "fr": "ininterprétable"},
    "finding.maculopathy": {"en": "Maculopathy: {value}", "fr": "Maculopathie : {value}"},
    "finding.maculopathy.absent": {"en": "absent", "fr": "absente"},
    "finding.maculopathy.present": {"en": "present", "fr": "présente"},
    "finding.maculopathy.ungradable": {"en": "not gradable", "fr": "ininterprétable"},
    "finding.diagnosis": {"en": "Diagnosis: {value}", "fr": "Diagnostic : {value}"},
    "finding.diagnosis.melanoma": {"en": "melanoma", "fr": "mélanome"},
    "finding.diagnosis.naevus": {"en": "naevus", "fr": "nævus"},
    "finding.diagnosis.seborrhoeic_keratosis": {"en": "seborrhoeic keratosis", "fr": "kératose séborrhéique"},
    "finding.diagnosis.basal_cell_carcinoma": {"en": "basal cell carcinoma", "fr": "carcinome basocellulaire"},
    "finding.diagnosis.squamous_cell_carcinoma": {"en": "squamous cell carcinoma", "fr": "carcinome épidermoïde"},
    "finding.diagnosis.actinic_keratosis": {"en": "actinic keratosis", "fr": "kératose actinique"},
    "finding.diagnosis.dermatofibroma": {"en": "dermatofibroma", "fr": "dermatofibrome"},
    "finding.diagnosis.vascular_lesion": {"en": "vascular lesion", "fr": "lésion vasculaire"},
    "finding.diagnosis.other": {"en": "other", "fr": "autre"},
    "finding.diagnosis.ungradable": {"en": "not gradable", "fr": "ininterprétable"},
    "records.title": {"en": "Find a patient's screenings", "fr": "Retrouver les dépistages d'un patient"},
    # Under a patient's list shown a page at a time (records.html): where she is, and the way on.
    "records.page": {"en": "Page {page} of {pages}.", "fr": "Page {page} sur {pages}."},
    "records.newer": {"en": "Newer", "fr": "Plus récents"},
    "records.older": {"en": "Older", "fr": "Plus anciens"},
    "records.find": {"en": "Find", "fr": "Chercher"},
    "records.none": {"en": "No screenings under this reference.", "fr": "Aucun dépistage sous cette référence."},
    "records.close": {"en": "Perhaps the same patient:", "fr": "Peut-être le même patient :"},
    # Counts in their singular or plural form (``plural_key``): never "screening(s)".
    "records.found.one": {"en": "{count} screening found.", "fr": "{count} dépistage trouvé."},
    "records.found.other": {"en": "{count} screenings found.", "fr": "{count} dépistages trouvés."},
    "count.screenings.one": {"en": "{count} screening", "fr": "{count} dépistage"},
    "count.screenings.other": {"en": "{count} screenings", "fr": "{count} dépistages"},
    "count.photos.one": {"en": "{count} photo", "fr": "{count} photo"},
    "count.photos.other": {"en": "{count} photos", "fr": "{count} photos"},
    "count.withdrawn.one": {"en": "{count} unsent result withdrawn", "fr": "{count} résultat non envoyé retiré"},
    "count.withdrawn.other": {
        "en": "{count} unsent results withdrawn",
        "fr": "{count} résultats non envoyés retirés",
    },
    "records.view": {"en": "View", "fr": "Voir"},
    # Under a record opened, beside its patient's count: back to the list's rows (records.html).
    "records.see_list": {"en": "See the list", "fr": "Voir la liste"},
    "records.export": {"en": "Export photo", "fr": "Exporter la photo"},
    # Said once the browser has the exported photo (app.js, EXPORTED): a kiosk shows no download. Its
    # browser keeps the file in its download folder, on the device, outside the records' protection.
    "records.exported": {
        "en": "Photo exported: {file} is in this browser's downloads (on the device's own screen, its "
        "desktop account's download folder, where the technician finds it). That copy is not erased with "
        "the patient.",
        "fr": "Photo exportée : {file} est dans les téléchargements de ce navigateur (sur l'écran de "
        "l'appareil, le dossier de téléchargement de son compte de bureau, où le technicien la trouve). Cette "
        "copie n'est pas supprimée avec le patient.",
    },
    "records.erase": {"en": "Erase this patient", "fr": "Supprimer les données de ce patient"},
    "records.erase_confirm": {
        "en": "Erase {screenings} and {photos} of patient {reference}, with their verdicts and unsent results? "
        "This cannot be undone.",
        "fr": "Supprimer {screenings} et {photos} du patient {reference}, avec leurs avis et les résultats non "
        "envoyés ? C'est définitif.",
    },
    "records.erase_close": {
        "en": "Not included, in case one is the same patient typed another way (open it to erase it too):",
        "fr": "Non inclus, au cas où l'un serait le même patient saisi autrement (ouvrez-le pour le supprimer aussi) :",
    },
    "records.erase_visit_open": {
        "en": "This patient is being screened: finish the screening first, then erase the patient.",
        "fr": "Ce patient est en cours de dépistage : terminez d'abord le dépistage, puis supprimez ses données.",
    },
    "records.erase_yes": {"en": "Yes, erase", "fr": "Oui, supprimer"},
    "records.cancel": {"en": "Cancel", "fr": "Annuler"},
    "records.erased": {
        "en": "Erased {screenings} and {photos}; {withdrawn}.",
        "fr": "Supprimé : {screenings} et {photos} ; {withdrawn}.",
    },
    "records.erased_in_flight.one": {
        "en": "{count} result was already being sent and may have reached the specialists.",
        "fr": "{count} résultat était déjà en cours d'envoi et a pu parvenir aux spécialistes.",
    },
    "records.erased_in_flight.other": {
        "en": "{count} results were already being sent and may have reached the specialists.",
        "fr": "{count} résultats étaient déjà en cours d'envoi et ont pu parvenir aux spécialistes.",
    },
    # The same causes (``Unpaid.cause``), for the nurse who has just erased: what to tell the technician.
    "records.erased_left_on_disk.reader": {
        "en": "Another program was reading the records (a backup, say): the erased data leaves the disk once it "
        "stops, at the next screening.",
        "fr": "Un autre programme lisait les dossiers (une sauvegarde, par exemple) : les données supprimées "
        "quittent le disque quand il s'arrête, au prochain dépistage.",
    },
    "records.erased_left_on_disk.full": {
        "en": "The disk is full: the erased data stays on it until there is room, then leaves at the next "
        "screening. Call the technician to free space on the device.",
        "fr": "Le disque est plein : les données supprimées y restent jusqu'à ce qu'il y ait de la place, puis le "
        "quittent au prochain dépistage. Appelez le technicien pour libérer de la place sur l'appareil.",
    },
    "records.erased_left_on_disk.damaged": {
        "en": "The records are damaged: the erased data stays on the disk. Call the technician: the card is failing.",
        "fr": "Les dossiers sont endommagés : les données supprimées restent sur le disque. Appelez le "
        "technicien : la carte est défaillante.",
    },
    "records.erased_left_on_disk.failed": {
        "en": "The records could not be written: the erased data stays on the disk. Call the technician: "
        "edgescreen doctor says what to do.",
        "fr": "Les dossiers n'ont pas pu être écrits : les données supprimées restent sur le disque. Appelez le "
        "technicien : la commande edgescreen doctor dit quoi faire.",
    },
    # The erased patient's photos exported before (``Erasure.exported``), dated: copies the erasure does not reach.
    "records.erased_exported.one": {
        "en": "This patient's photo was exported once, on {first}: that copy is not erased. Delete it from the "
        "downloads of the device or tablet that saved it.",
        "fr": "La photo de ce patient a été exportée une fois, le {first} : cette copie n'est pas effacée. "
        "Supprimez-la des téléchargements de l'appareil ou de la tablette qui l'a enregistrée.",
    },
    "records.erased_exported.other": {
        "en": "This patient's photos were exported {count} times, from {first} to {last}: those copies are not "
        "erased. Delete them from the downloads of the devices or tablets that saved them.",
        "fr": "Les photos de ce patient ont été exportées {count} fois, du {first} au {last} : ces copies ne sont "
        "pas effacées. Supprimez-les des téléchargements des appareils ou tablettes qui les ont enregistrées.",
    },
    "records.erased_at_station.one": {
        "en": "The review station may hold {count} of these results, without the name: the device asks the "
        "station to erase it at the next sync.",
        "fr": "Le poste de relecture peut détenir {count} de ces résultats, sans le nom : l'appareil lui demande "
        "de l'effacer à la prochaine synchronisation.",
    },
    "records.erased_at_station.other": {
        "en": "The review station may hold {count} of these results, without the name: the device asks the "
        "station to erase them at the next sync.",
        "fr": "Le poste de relecture peut détenir {count} de ces résultats, sans le nom : l'appareil lui demande "
        "de les effacer à la prochaine synchronisation.",
    },
    # Dates as people read them (firmware_app/wording.py).
    "date.day": {"en": "{day} {month} {year}", "fr": "{day} {month} {year}"},
    "date.day_time": {"en": "{day}, {time}", "fr": "{day} à {time}"},
    "date.month.1": {"en": "January", "fr": "janvier"},
    "date.month.2": {"en": "February", "fr": "février"},
    "date.month.3": {"en": "March", "fr": "mars"},
    "date.month.4": {"en": "April", "fr": "avril"},
    "date.month.5": {"en": "May", "fr": "mai"},
    "date.month.6": {"en": "June", "fr": "juin"},
    "date.month.7": {"en": "July", "fr": "juillet"},
    "date.month.8": {"en": "August", "fr": "août"},
    "date.month.9": {"en": "September", "fr": "septembre"},
    "date.month.10": {"en": "October", "fr": "octobre"},
    "date.month.11": {"en": "November", "fr": "novembre"},
    "date.month.12": {"en": "December", "fr": "décembre"},
    "records.detail": {"en": "Screening of {when}", "fr": "Dépistage du {when}"},
    "records.field.photo": {"en": "Photo", "fr": "Photo"},
    # Instead of "Photo" for an eye recorded as impossible to photograph: there is no photo of it.
    "records.field.eye": {"en": "Eye", "fr": "Œil"},
    "records.field.triage": {"en": "Triage", "fr": "Tri"},
    "records.field.reference": {"en": "Patient reference", "fr": "Référence du patient"},
    "records.field.operator": {"en": "Taken by", "fr": "Pris par"},
    # Instead of "Taken by" for an eye recorded as impossible to photograph: nobody took a photo of it.
    "records.field.recorded_by": {"en": "Recorded by", "fr": "Enregistré par"},
    "records.field.model": {"en": "Model", "fr": "Modèle"},
    "records.field.calibration": {"en": "Calibration", "fr": "Étalonnage"},
    "records.field.note": {"en": "Note", "fr": "Note"},
    "records.field.received": {"en": "Received by the server", "fr": "Reçu par le serveur"},
    "records.field.review": {"en": "Review", "fr": "Avis"},
    # Instead of "Triage" once a specialist's verdict is on the device: the device's triage stays, named
    # as the one the specialist reviewed, in Today's words ("result.heading.*"), never its instruction.
    "records.field.reviewed_triage": {
        "en": "Device's triage, reviewed",
        "fr": "Tri de l'appareil, revu",
    },
    # What the nurse does, by the specialist's latest verdict, leading a record it asks no call-back of
    # (a call-back's badge leads the others): the verdict ("verdict.*") and what it asks, in the result
    # screen's words ("result.action.*"), over the device's triage whatever that said.
    "records.act_on_verdict": {"en": "{verdict}. {action}", "fr": "{verdict}. {action}"},
    "records.uncalibrated": {"en": "Not calibrated", "fr": "Non étalonné"},
    "records.photo_gone": {
        "en": "The photo is no longer kept on this device (deleted after its retention period).",
        "fr": "La photo n'est plus conservée sur cet appareil (supprimée après sa durée de conservation).",
    },
    "records.gone": {
        "en": "This screening is not in the records: it may have been erased, from this screen or another.",
        "fr": "Ce dépistage n'est pas dans les dossiers : il a peut-être été supprimé, depuis cet écran ou un autre.",
    },
    "records.back": {"en": "Back to Records", "fr": "Retour aux dossiers"},
    "records.photo_unreadable": {
        "en": "The photo cannot be read: it was damaged on this device's card. Call the technician.",
        "fr": "La photo est illisible : elle a été endommagée sur la carte de l'appareil. Appelez le technicien.",
    },
    "records.review_replaced": {
        "en": "replaced by the later verdict below",
        "fr": "remplacé par l'avis plus récent ci-dessous",
    },
    "records.review": {"en": "{verdict} ({reviewer}, {when})", "fr": "{verdict} ({reviewer}, {when})"},
    # A verdict whose comment a worn card damaged: the verdict and the record stand, the comment is named lost.
    "records.comment_unreadable": {
        "en": "(its comment cannot be read: it was damaged on this device's card; the review station still has "
        "it. Call the technician)",
        "fr": "(son commentaire est illisible : il a été endommagé sur la carte de l'appareil ; la station de "
        "relecture le conserve. Appelez le technicien)",
    },
    # The same, the specialist's comment following it: the colon is the catalogue's, so French gets its
    # no-break space before it (``message``), as every other French colon the nurse reads.
    "records.review_commented": {"en": "{verdict} ({reviewer}, {when}):", "fr": "{verdict} ({reviewer}, {when}) :"},
    # A verdict dated later than it arrived here (``verdicts.station_clock_ahead``): its {when} above. The
    # date the station gave it would tell of a decision from the future; when it arrived is what is known.
    "records.review_station_ahead": {
        "en": "received {received}; the station's clock, ahead of this device's, dated it {dated}",
        "fr": "reçu le {received} ; l'horloge de la station, en avance sur celle de cet appareil, l'a daté du {dated}",
    },
}


def plural_key(key: str, count: int, language: str) -> str:
    """``key.one`` or ``key.other``, the form ``count`` takes ("1 screening", "2 screenings", never
    "screening(s)"): French takes the singular for 0 and 1, English for 1 alone."""
    one = count in (0, 1) if language == "fr" else count == 1
    return f"{key}.{'one' if one else 'other'}"


def said(key: str, language: str, values: Mapping[str, int | str | Worded]) -> str:
    """``sentence`` for an error that carries its key and values, a value ``Worded`` said in ``language``
    too (``RequestRefused``'s, ``ImageError``'s): the English for the log, the person's language for them."""
    return sentence(
        key, language, **{name: value(language) if callable(value) else value for name, value in values.items()}
    )


def grouped(number: int, language: str) -> str:
    """A whole number with its thousands set apart as the language sets them: "64,000,000" in English,
    "64 000 000" in French (with a narrow space that never breaks)."""
    text = f"{number:,}"
    return text.replace(",", "\u202f") if language == "fr" else text


def sentence(key: str, language: str, **values: int | str) -> str:
    """``key`` in ``language`` filled with ``values``; with a ``count``, in its singular or plural
    form (``plural_key``): what an error that carries its catalogue key says (a camera's, a
    calibration target's)."""
    counted = plural_key(key, int(values["count"]), language) if "count" in values else key
    return message(counted, language).format(**values)


def system_reason(error: BaseException, language: str) -> str:
    """Why the system refused what ``error`` stopped, in ``language``: its ``strerror`` is English
    whatever the device speaks, the one English inside a French refusal. The common reasons are the
    catalogue's (``system.<errno name>``); any other keeps the system's words, rather than none."""
    name = errno.errorcode.get(getattr(error, "errno", None) or 0, "")
    if f"system.{name}" in CATALOGUE:
        return message(f"system.{name}", language)
    return str(getattr(error, "strerror", None) or error)


def message(key: str, language: str) -> str:
    """The text for ``key`` in ``language``; English when a translation is missing. French sets a
    colon, a semicolon, a question or an exclamation mark apart with a space that never breaks: on
    the 800x480 screen a plain one let a line start with ": baissez la lumière"; so do « and »."""
    texts = CATALOGUE[key]
    text = texts.get(language, texts["en"])
    return typeset(text, language) if language in texts else text


def typeset(text: str, language: str) -> str:
    """``text`` as ``language`` sets it: in French, a space that never breaks before : ; ? ! and inside
    « »; other languages as written. The review station's catalogue (``review_station/words.py``)
    sets its French by this too, so the nurse and the specialist read one typography."""
    if language != "fr":
        return text
    text = _FRENCH_CLOSING.sub("\u00a0»", _FRENCH_OPENING.sub("«\u00a0", text))
    return _FRENCH_PUNCTUATION.sub("\u00a0\\1", text)
