#include "ariadne/policies/templates.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <utility>

#include "ariadne/policies/error.h"

namespace ariadne::policies {

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

// The handover notice for a survivor who asked that no one ever be able to confirm she was a
// client: no initials, no "contact", nothing that points at a person or an organisation.
constexpr std::array<std::pair<const char*, const char*>, 7> kDiscreetHandover{{
    {"en", "Hi, it's me again. Reply any time."},
    {"es", "Hola, soy yo otra vez. Responde cuando quieras."},
    {"it", "Ciao, sono di nuovo io. Rispondi quando vuoi."},
    {"ro", "Bună, tot eu sunt. Răspunde oricând."},
    {"el", "Γεια, πάλι εγώ. Απάντησε όποτε θέλεις."},
    {"fr", "Bonjour, c'est encore moi. Réponds quand tu veux."},
    {"ar", "مرحباً، هذه أنا مجدداً. ردّي في أي وقت."},
}};

struct BuiltinTemplate {
    const char* id;
    const std::array<std::pair<const char*, const char*>, 7>* texts;
    bool initials_placeholder;  // "{initials}" may appear in it
};

constexpr std::array<BuiltinTemplate, 4> kBuiltins{{
    {"neutral_checkin", &kNeutralCheckin, false},
    {"neutral_handover", &kNeutralHandover, true},
    {"discreet_handover", &kDiscreetHandover, false},
    {"neutral_new_device", &kNeutralNewDevice, false},
}};

const BuiltinTemplate* find_builtin(const std::string& id) {
    for (const auto& b : kBuiltins) {
        if (id == b.id) return &b;
    }
    return nullptr;
}

// Well-formed UTF-8 without control characters (C0, DEL, C1).
bool printable_utf8(const std::string& text) {
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        std::size_t len = c < 0x80           ? 1
                          : (c >> 5) == 0x6  ? 2
                          : (c >> 4) == 0xE  ? 3
                          : (c >> 3) == 0x1E ? 4
                                             : 0;
        if (len == 0 || i + len > text.size()) return false;
        std::uint32_t cp = len == 1 ? c : c & (0xFF >> (len + 1));
        for (std::size_t k = 1; k < len; ++k) {
            auto b = static_cast<unsigned char>(text[i + k]);
            if ((b & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (b & 0x3F);
        }
        static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return false;
        i += len;
    }
    return true;
}

}  // namespace

std::vector<std::string> builtin_template_ids() {
    std::vector<std::string> ids;
    for (const auto& b : kBuiltins) ids.emplace_back(b.id);
    return ids;
}

std::vector<std::string> builtin_template_languages() {
    std::vector<std::string> langs;
    for (const auto& [lang, text] : kNeutralCheckin) langs.emplace_back(lang);
    return langs;
}

std::optional<std::string> builtin_template(const std::string& template_id,
                                            const std::string& language) {
    const BuiltinTemplate* b = find_builtin(template_id);
    if (!b) return std::nullopt;
    for (const auto& [lang, text] : *b->texts) {
        if (language == lang) return std::string(text);
    }
    return std::nullopt;
}

void validate_template(const std::string& template_id, const std::string& text,
                       const std::vector<std::string>& organisation_names) {
    const BuiltinTemplate* b = find_builtin(template_id);
    if (!b) {
        std::string ids;
        for (const auto& k : kBuiltins) ids += std::string(ids.empty() ? "" : ", ") + k.id;
        throw Error(ErrorCode::invalid_field, "template_id",
                    "template_id: must be one of the texts Ariadne sends (" + ids + ")");
    }
    if (text.empty() || text.size() > 320) {
        throw Error(ErrorCode::invalid_field, "template.text",
                    "template.text: a text sent to her is 1 to 320 bytes");
    }
    if (!printable_utf8(text)) {
        throw Error(ErrorCode::invalid_field, "template.text",
                    "template.text: must be printable UTF-8 text on one line (no control "
                    "characters, tabs or newlines)");
    }
    std::string lower;
    for (char c : text)
        lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (const char* link : {"http:", "https:", "www."}) {
        if (lower.find(link) != std::string::npos) {
            throw Error(ErrorCode::invalid_field, "template.text",
                        "template.text: a text sent to her must not contain a link (it could "
                        "reveal who sent it)");
        }
    }
    for (std::size_t open = text.find('{'); open != std::string::npos;
         open = text.find('{', open + 1)) {
        std::size_t close = text.find('}', open);
        std::string placeholder =
            close == std::string::npos ? text.substr(open) : text.substr(open, close - open + 1);
        if (placeholder != "{initials}" || !b->initials_placeholder) {
            throw Error(ErrorCode::invalid_field, "template.text",
                        std::string("template.text: ") +
                            (b->initials_placeholder
                                 ? "the only placeholder allowed here is {initials}"
                                 : "this text takes no placeholders (braces are not allowed)"));
        }
    }
    if (text.find('}') != std::string::npos && !b->initials_placeholder) {
        throw Error(ErrorCode::invalid_field, "template.text",
                    "template.text: this text takes no placeholders (braces are not allowed)");
    }
    if (auto name = organisation_name_in(text, organisation_names)) {
        throw Error(ErrorCode::refused, "template.text",
                    "template.text: must not name the organisation ('" + *name +
                        "' is one of its names in the organisation policy): someone holding "
                        "her phone could read it");
    }
}

std::optional<std::string> organisation_name_in(
    const std::string& text, const std::vector<std::string>& organisation_names) {
    auto fold = [](const std::string& s) {
        std::string out;
        for (char c : s) {
            out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        }
        return out;
    };
    // A name counts only as a whole word: the acronym "CAS" must not refuse "case".
    auto word_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    const std::string folded = fold(text);
    for (const auto& name : organisation_names) {
        const std::string n = fold(name);
        if (n.empty()) continue;
        for (auto at = folded.find(n); at != std::string::npos; at = folded.find(n, at + 1)) {
            const bool starts = at == 0 || !word_char(folded[at - 1]) || !word_char(n.front());
            const std::size_t end = at + n.size();
            const bool ends =
                end == folded.size() || !word_char(folded[end]) || !word_char(n.back());
            if (starts && ends) return name;
        }
    }
    return std::nullopt;
}

}  // namespace ariadne::policies
