#include "templates.h"

#include <array>
#include <cctype>
#include <utility>

#include "ariadne/policies/error.h"

namespace ariadne::policies::detail {

namespace {

// Neutral on purpose: no organisation name, nothing about the past, nothing that needs an
// answer; safe to be read by someone else holding her phone.
constexpr std::array<std::pair<const char*, const char*>, 7> kNeutralCheckin{{
    {"en", "Hi, just checking in. Reply any time."},
    {"es", "Hola, solo quería saludarte. Responde cuando quieras."},
    {"it", "Ciao, solo un saluto. Rispondi quando vuoi."},
    {"ro", "Bună, doar voiam să te salut. Răspunde oricând."},
    {"el", "Γεια, απλώς ένας χαιρετισμός. Απάντησε όποτε θέλεις."},
    {"fr", "Bonjour, juste un petit coucou. Réponds quand tu veux."},
    {"ar", "مرحباً، أردت فقط أن أسلّم عليكِ. ردّي في أي وقت."},
}};

// The handover notice names the new caseworker by initials only ("{initials}").
constexpr std::array<std::pair<const char*, const char*>, 7> kNeutralHandover{{
    {"en", "Hi, from now on {initials} will be your contact. Reply any time."},
    {"es", "Hola, a partir de ahora {initials} será tu contacto. Responde cuando quieras."},
    {"it", "Ciao, da ora in poi {initials} sarà il tuo contatto. Rispondi quando vuoi."},
    {"ro", "Bună, de acum {initials} va fi persoana ta de contact. Răspunde oricând."},
    {"el", "Γεια, από τώρα {initials} θα είναι η επαφή σου. Απάντησε όποτε θέλεις."},
    {"fr", "Bonjour, désormais {initials} sera ton contact. Réponds quand tu veux."},
    {"ar", "مرحباً، من الآن سيكون {initials} جهة الاتصال الخاصة بكِ. ردّي في أي وقت."},
}};

// Told to her, only if she asked for it, when her code signs in on a phone the gateway has
// not seen: no "account", no organisation, nothing that needs an answer.
constexpr std::array<std::pair<const char*, const char*>, 7> kNeutralNewDevice{{
    {"en", "Hi, a new phone just signed in. If that wasn't you, reply any time."},
    {"es",
     "Hola, un teléfono nuevo acaba de iniciar sesión. Si no fuiste tú, responde cuando "
     "quieras."},
    {"it",
     "Ciao, un nuovo telefono ha appena effettuato l'accesso. Se non eri tu, rispondi "
     "quando vuoi."},
    {"ro", "Bună, un telefon nou tocmai s-a conectat. Dacă nu ai fost tu, răspunde oricând."},
    {"el", "Γεια, ένα νέο τηλέφωνο μόλις συνδέθηκε. Αν δεν ήσουν εσύ, απάντησε όποτε θέλεις."},
    {"fr",
     "Bonjour, un nouveau téléphone vient de se connecter. Si ce n'était pas toi, réponds "
     "quand tu veux."},
    {"ar", "مرحباً، تم تسجيل الدخول للتو من هاتف جديد. إذا لم تكوني أنتِ، ردّي في أي وقت."},
}};

}  // namespace

std::optional<std::string> builtin_template(const std::string& template_id,
                                            const std::string& language) {
    const auto* table = template_id == "neutral_checkin"      ? &kNeutralCheckin
                        : template_id == "neutral_handover"   ? &kNeutralHandover
                        : template_id == "neutral_new_device" ? &kNeutralNewDevice
                                                              : nullptr;
    if (!table) return std::nullopt;
    for (const auto& [lang, text] : *table) {
        if (language == lang) return std::string(text);
    }
    return std::nullopt;
}

void validate_template(const std::string& template_id, const std::string& text) {
    bool id_ok = !template_id.empty() && template_id.size() <= 40;
    for (char c : template_id) {
        id_ok = id_ok && (std::islower(static_cast<unsigned char>(c)) ||
                          std::isdigit(static_cast<unsigned char>(c)) || c == '_');
    }
    if (!id_ok) {
        throw Error(ErrorCode::invalid_field, "template_id",
                    "template_id: 1 to 40 of a-z, 0-9 and _ (e.g. 'neutral_checkin')");
    }
    if (text.empty() || text.size() > 320) {
        throw Error(ErrorCode::invalid_field, "template.text",
                    "template.text: a check-in text is 1 to 320 bytes");
    }
    std::string lower;
    for (char c : text)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (const char* link : {"http:", "https:", "www."}) {
        if (lower.find(link) != std::string::npos) {
            throw Error(ErrorCode::invalid_field, "template.text",
                        "template.text: a check-in text must not contain a link (it could "
                        "reveal who sent it)");
        }
    }
}

}  // namespace ariadne::policies::detail
