#include "ariadne/storage/admin_listings.h"

#include <algorithm>
#include <map>

#include "ariadne/storage/sqlite.h"

namespace ariadne::storage {

std::vector<CaseworkerListing> AdminListings::caseworkers() const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    std::vector<CaseworkerListing> out;
    std::map<std::string, std::size_t> index;
    {
        auto s = db.prepare(
            "SELECT a.id, c.username, "
            "(SELECT COUNT(*) FROM disabled_accounts d WHERE d.account = a.key), "
            "(SELECT COUNT(*) FROM devices v WHERE v.account = a.key), "
            "(SELECT i.initials FROM gateway_caseworker_initials i WHERE i.account = a.id), "
            "(SELECT r.role FROM gateway_account_roles r WHERE r.account = a.id) "
            "FROM accounts a JOIN caseworkers c ON c.account = a.key ORDER BY c.username");
        while (s.step()) {
            CaseworkerListing row;
            row.account = s.text(0);
            row.username = s.text(1);
            row.disabled = s.integer(2) > 0;
            row.devices = s.integer(3);
            if (!s.is_null(4)) row.initials = s.text(4);
            if (!s.is_null(5)) row.role = s.text(5);
            index[row.account] = out.size();
            out.push_back(std::move(row));
        }
    }
    auto s = db.prepare(
        "SELECT DISTINCT sc.account_id, s.team FROM policies_survivor_caseworkers sc "
        "JOIN policies_survivors s ON s.case_code = sc.case_code WHERE s.team IS NOT NULL "
        "ORDER BY s.team");
    while (s.step()) {
        auto it = index.find(s.text(0));
        if (it != index.end()) out[it->second].teams.push_back(s.text(1));
    }
    return out;
}

std::vector<SurvivorListing> AdminListings::survivors() const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    std::vector<SurvivorListing> out;
    auto s = db.prepare(
        "SELECT case_code, initials, language, status, team FROM policies_survivors "
        "ORDER BY case_code");
    while (s.step()) {
        SurvivorListing row{s.text(0), s.text(1), s.text(2), s.text(3), std::nullopt};
        if (!s.is_null(4)) row.team = s.text(4);
        out.push_back(std::move(row));
    }
    return out;
}

std::vector<PlanListing> AdminListings::checkin_plans() const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    std::vector<PlanListing> out;
    auto s = db.prepare(
        "SELECT plan_id, case_code, status, next_due_at FROM policies_checkin_plans "
        "ORDER BY plan_id");
    while (s.step()) {
        PlanListing row{s.integer(0), s.text(1), s.text(2), std::nullopt};
        if (!s.is_null(3)) row.next_due_us = s.integer(3);
        out.push_back(std::move(row));
    }
    return out;
}

std::vector<std::string> AdminListings::cases_of(const std::string& account_id) const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    std::vector<std::string> out;
    auto s = db.prepare(
        "SELECT case_code FROM policies_survivor_caseworkers WHERE account_id = ? "
        "ORDER BY case_code");
    s.bind(1, account_id);
    while (s.step()) out.push_back(s.text(0));
    return out;
}

std::optional<std::vector<DeviceListing>> AdminListings::devices(
    const std::string& account_id) const {
    auto guard = store_.lock();
    Connection db(store_.connection());
    {
        auto s = db.prepare("SELECT 1 FROM accounts WHERE id = ?");
        s.bind(1, account_id);
        if (!s.step()) return std::nullopt;
    }
    std::vector<DeviceListing> out;
    auto s = db.prepare(
        "SELECT v.device, v.created_ms FROM devices v JOIN accounts a ON a.key = v.account "
        "WHERE a.id = ? ORDER BY v.device");
    s.bind(1, account_id);
    while (s.step()) {
        out.push_back({static_cast<std::uint32_t>(s.integer(0)), s.integer(1)});
    }
    return out;
}

}  // namespace ariadne::storage
