// Edge encryption: a survivor on a plaintext channel talks to a real console device through
// her edge device; nothing she or her caseworker wrote is left readable on disk or in logs.
#include <gtest/gtest.h>

#include <mutex>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "stack.h"

namespace ariadne::adapters::test {
namespace {

using namespace std::chrono_literals;

/// Captures everything the process logs through spdlog while alive.
class LogCapture {
  public:
    LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)) {
        previous_ = spdlog::default_logger();
        auto logger = std::make_shared<spdlog::logger>("capture", sink_);
        logger->set_level(spdlog::level::trace);
        spdlog::set_default_logger(logger);
    }
    ~LogCapture() { spdlog::set_default_logger(previous_); }
    std::string text() {
        spdlog::default_logger()->flush();
        return out_.str();
    }

  private:
    std::ostringstream out_;
    std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
    std::shared_ptr<spdlog::logger> previous_;
};

TEST(EdgeHub, SurvivorTextReachesTheConsoleEdgeEncryptedAndTheReplyComesBackDecrypted) {
    LogCapture logs;
    Stack stack;
    auto console = stack.console();
    std::mutex m;
    std::vector<EdgeReply> replies;
    stack.hub->on_reply([&](const EdgeReply& r) {
        std::lock_guard lock(m);
        replies.push_back(r);
    });

    const std::string hers = "canary-inbound-7f3a: can we talk tomorrow?";
    stack.hub->submit_inbound(stack.survivor, EdgeChannel::web, hers);
    auto got = console->receive(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, hers);
    EXPECT_EQ(got->from, stack.survivor);
    EXPECT_EQ(got->from_device, kEdgeDeviceId);

    const std::string reply = "canary-reply-91c2: yes, at ten";
    console->send_text(stack.survivor, reply);
    for (int i = 0; i < 100 && replies.empty(); ++i) {
        std::this_thread::sleep_for(50ms);
        stack.hub->drain(1s);
    }
    {
        std::lock_guard lock(m);
        ASSERT_EQ(replies.size(), 1u);
        EXPECT_EQ(replies[0].text, reply);
        EXPECT_EQ(replies[0].from_account, stack.caseworker);
    }
    auto history = stack.hub->history(stack.survivor);
    ASSERT_EQ(history.size(), 2u);
    EXPECT_TRUE(history[0].from_survivor);
    EXPECT_EQ(history[0].text, hers);
    EXPECT_FALSE(history[1].from_survivor);
    EXPECT_EQ(history[1].text, reply);

    // Second round: established sessions (normal messages) both ways.
    stack.hub->submit_inbound(stack.survivor, EdgeChannel::sms, "canary-second-22aa");
    got = console->receive(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "canary-second-22aa");

    // Canary scan: database, WAL, edge stores, history — and the log.
    stack.store->flush();
    const std::string disk = read_all_files(stack.data);
    for (const std::string& canary :
         {std::string("canary-inbound-7f3a"), std::string("canary-reply-91c2"),
          std::string("canary-second-22aa")}) {
        EXPECT_EQ(disk.find(canary), std::string::npos) << canary << " found on disk";
        EXPECT_EQ(logs.text().find(canary), std::string::npos) << canary << " found in the log";
    }
}

TEST(EdgeHub, ACallBackRequestFromThePageOrSmsIsTheAppsFrameWithItsChannel) {
    Stack stack;
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    const std::vector<CallbackWindow> windows = {{now + 3600000, now + 2 * 3600000}};
    try {
        stack.hub->request_callback(stack.survivor, EdgeChannel::sms, windows);
        ADD_FAILURE() << "a call-back without her consent was accepted";
    } catch (const AdapterError& e) {
        EXPECT_EQ(e.code(), AdapterError::Code::refused);
        EXPECT_EQ(e.reason(), "no_consent");
    }
    stack.admin({"consent-record", "--case", stack.case_code, "--channel", "voice_callback",
                 "--purpose", "replies", "--by", stack.caseworker, "--address-stdin"},
                "+44 7700 900123\n");
    auto accepted = stack.hub->request_callback(stack.survivor, EdgeChannel::sms, windows);
    EXPECT_GT(accepted.task_id, 0);
    EXPECT_EQ(accepted.window.from_ms, windows[0].from_ms);
    EXPECT_FALSE(accepted.replaced);
    auto tasks = stack.callback_board->open_tasks_for(stack.caseworker);
    ASSERT_EQ(tasks.size(), 1u);
    EXPECT_EQ(tasks[0]["channel"], "sms");
    EXPECT_EQ(tasks[0]["task_id"], accepted.task_id);
    auto again = stack.hub->request_callback(stack.survivor, EdgeChannel::web, windows);
    EXPECT_TRUE(again.replaced);
    EXPECT_EQ(stack.callback_board->open_tasks_for(stack.caseworker)[0]["channel"], "web");
    try {
        stack.hub->request_callback(stack.survivor, EdgeChannel::web,
                                    {{now - 3 * 3600000, now - 3600000}});
        ADD_FAILURE() << "a window in the past was accepted";
    } catch (const AdapterError& e) {
        EXPECT_EQ(e.code(), AdapterError::Code::invalid_input);
    }
    EXPECT_EQ(read_all_files(stack.data).find("7700900123"), std::string::npos);
}

TEST(EdgeHub, RefusesToAttachAnEdgeDeviceToACaseworkerAccount) {
    Stack stack;
    try {
        stack.hub->attach(stack.caseworker);
        FAIL() << "attached an edge device to a caseworker";
    } catch (const AdapterError& e) {
        EXPECT_EQ(e.code(), AdapterError::Code::not_survivor);
    }
}

TEST(EdgeHub, RefusesEmptyAndOverlongTextWithoutStoringAnything) {
    Stack stack;
    auto console = stack.console();
    EXPECT_THROW(stack.hub->submit_inbound(stack.survivor, EdgeChannel::web, ""), AdapterError);
    EXPECT_THROW(
        stack.hub->submit_inbound(stack.survivor, EdgeChannel::web, std::string(4001, 'x')),
        AdapterError);
    EXPECT_FALSE(console->receive(300ms).has_value());
    EXPECT_TRUE(stack.hub->history(stack.survivor).empty());
}

TEST(EdgeHub, EdgeDeviceSurvivesARestartWithTheSameIdentity) {
    Stack stack;
    auto console = stack.console();
    stack.hub->submit_inbound(stack.survivor, EdgeChannel::web, "first");
    ASSERT_TRUE(console->receive(10s).has_value());
    // A new hub over the same data directory (gateway restart) reuses the sealed edge store:
    // the console's session keeps working (a new identity would be refused as untrusted).
    stack.hub.reset();
    EdgeOptions eo;
    eo.data_dir = stack.data;
    stack.hub = std::make_unique<EdgeHub>(*stack.gateway, eo);
    stack.hub->submit_inbound(stack.survivor, EdgeChannel::web, "second");
    auto got = console->receive(10s);
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->plaintext, "second");
    EXPECT_EQ(stack.hub->history(stack.survivor).size(), 2u);
}

}  // namespace
}  // namespace ariadne::adapters::test
