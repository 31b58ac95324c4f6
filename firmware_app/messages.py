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
        "en": "Move closer: the lesion is too small.",
        "fr": "Rapprochez-vous : la lésion est trop petite.",
    },
    "quality.lesion_cut": {
        "en": "Part of the lesion is cut off: centre it, or move back to fit it whole.",
        "fr": "Une partie de la lésion est coupée : centrez-la, ou reculez pour la voir en entier.",
    },
    "quality.lesion_off_centre": {
        "en": "Centre the lesion in the view.",
        "fr": "Centrez la lésion dans le champ.",
    },
    "quality.hair": {
        "en": "Hair covers the lesion: part or shave it, then retake.",
        "fr": "Des poils couvrent la lésion : écartez-les ou rasez-les, puis reprenez.",
    },
    "quality.bubbles": {
        "en": "Air bubbles: reapply the immersion fluid and press gently.",
        "fr": "Bulles d'air : remettez du liquide d'immersion et appuyez doucement.",
    },
    # Dermoscopy measurements beside the triage (see firmware_app/lesion_measurements.py).
    "lesion.diameter": {"en": "Lesion diameter {diameter} mm.", "fr": "Diamètre de la lésion : {diameter} mm."},
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
    "skin_tone.category": {
        "en": "Skin tone: {category} (ITA {ita}°).",
        "fr": "Teint de la peau : {category} (ITA {ita}°).",
    },
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
    "skin_tone.not_measured": {
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
