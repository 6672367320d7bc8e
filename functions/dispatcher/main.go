// Command dispatcher is DispatcherFunction: every minute it delivers the
// notification outbox (shared/notify) by WeChat subscription message, SMS
// and signed webhooks, for the minute's length.
package main

import (
	"context"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"microcert/shared/clock"
	"microcert/shared/config"
	"microcert/shared/config/secrets"
	"microcert/shared/domain"
	"microcert/shared/logging"
	"microcert/shared/notify"
	"microcert/shared/notify/providers"
	"microcert/shared/store"
)

func main() {
	ctx := context.Background()
	log := logging.New("dispatcher")
	cfg, rules := config.MustLoad(log)
	keys, err := secrets.Named(ctx, cfg.AWS, "WECHAT_APP_SECRET", "SMS_API_KEY")
	must(log, "secrets", err)
	wechatTemplates, err := config.ChannelTemplates(os.Getenv("WECHAT_TEMPLATES"))
	must(log, "WECHAT_TEMPLATES", err)
	smsTemplates, err := config.ChannelTemplates(os.Getenv("SMS_TEMPLATES"))
	must(log, "SMS_TEMPLATES", err)
	attempt := cfg.DeliveryAttempt
	providerHTTP := &http.Client{Timeout: attempt}
	d := &notify.Dispatcher{
		Store:           store.New(cfg.DynamoDB(), cfg.TableName, rules),
		WeChat:          &providers.WeChat{BaseURL: os.Getenv("WECHAT_API_URL"), AppID: os.Getenv("WECHAT_APP_ID"), AppSecret: keys["WECHAT_APP_SECRET"], HTTP: providerHTTP, Now: time.Now},
		SMS:             &providers.SMS{BaseURL: os.Getenv("SMS_API_URL"), APIKey: keys["SMS_API_KEY"], SignName: os.Getenv("SMS_SIGN_NAME"), HTTP: providerHTTP},
		Webhooks:        &providers.Webhooks{HTTP: cfg.Webhooks.Client(attempt)},
		Rules:           rules,
		WeChatTemplates: wechatTemplates,
		SMSTemplates:    smsTemplates,
		Clock:           clock.System{},
		Log:             log,
		Lease:           3 * attempt,
		Timeout:         attempt,
		Batch:           25,
		Shards:          store.OutboxShards,
	}
	if ch := os.Getenv("FAULT_CRASH_AFTER_SEND"); ch != "" {
		// A testing aid, like FAULT_RATE (template.yaml never sets FAULT_*):
		// the process dies after the provider accepted the first attempt of
		// a delivery by this channel, before recording it.
		d.AfterSend = func(del *domain.Delivery) {
			if string(del.Channel) == ch && del.Attempts == 1 {
				log.Warn("crashing after a send (FAULT_CRASH_AFTER_SEND)", "delivery", del.ID)
				os.Exit(3)
			}
		}
	}
	h := &notify.Handler{Dispatcher: d, Window: 55 * time.Second, Poll: time.Second, Margin: 2 * attempt,
		Metrics: os.Stdout, Function: lambdacontext.FunctionName}
	lambda.Start(h.Handle)
}

func must(log interface{ Error(string, ...any) }, what string, err error) {
	if err != nil {
		log.Error(what, "err", err)
		os.Exit(1)
	}
}
