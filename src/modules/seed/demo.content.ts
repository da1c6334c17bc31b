/** Demo publication seeded on first start: written for Gazette, facts only from the reference page. */
export interface DemoAuthor {
  slug: string;
  name: string;
  bio: string;
}
export interface DemoTag {
  slug: string;
  name: string;
  description: string;
}
export interface DemoImage {
  file: string;
  alt: string;
  width: number;
  height: number;
}
export interface DemoVideo {
  file: string;
  poster: string;
  captions: string;
  caption: string;
  description: string;
  durationSeconds: number;
  width: number;
  height: number;
}
export interface DemoArticle {
  slug: string;
  title: string;
  standfirst: string;
  bodyMarkdown: string;
  authorSlugs: string[];
  tagSlugs: string[];
  /** Published this many hours before the first start. */
  hoursAgo: number;
  /** Updated this many hours before the first start (after publication), if it was updated. */
  updatedHoursAgo?: number;
  image?: DemoImage;
  video?: DemoVideo;
}
export interface DemoLegalDocument {
  kind: 'terms' | 'privacy';
  title: string;
  bodyMarkdown: string;
}

export const demoPublication = {
  name: 'The Judean',
  description: 'Independent reporting on diplomacy, society and ideas from Israel and the region.',
  locale: 'en',
} as const;

export const demoAuthors: DemoAuthor[] = [
  {
    slug: 'noa-ben-ami',
    name: 'Noa Ben-Ami',
    bio: 'Diplomatic correspondent for The Judean. She follows the negotiations, the envoys who carry them and the families waiting on the outcome.',
  },
  {
    slug: 'eitan-marcus',
    name: 'Eitan Marcus',
    bio: 'Writes on culture, work and the economy for The Judean, usually from a café table in Tel Aviv.',
  },
];

export const demoTags: DemoTag[] = [
  { slug: 'diplomacy', name: 'Diplomacy', description: 'Talks, envoys and the agreements they try to reach.' },
  { slug: 'israel', name: 'Israel', description: 'News and features from across Israel.' },
  { slug: 'gaza', name: 'Gaza', description: 'The war in Gaza and the lives of the people affected by it.' },
  {
    slug: 'humanitarian-aid',
    name: 'Humanitarian aid',
    description: 'How food, medicine and water reach civilians, and what holds them up.',
  },
  { slug: 'culture', name: 'Culture', description: 'Art, music, books and the places where people gather.' },
  { slug: 'economy', name: 'Economy', description: 'Business, technology and the working life of the region.' },
  {
    slug: 'analysis',
    name: 'Analysis',
    description: 'Context and argument from our correspondents, clearly labelled as such.',
  },
];

const leadBody = `TEL AVIV — U.S. Secretary of State Antony Blinken told Israeli President Isaac Herzog on Wednesday that Washington is determined to secure a ceasefire agreement that frees the hostages held in Gaza, and said that if the effort fails, the fault will lie with Hamas.

Opening their meeting in Tel Aviv, Blinken said an offer was already before the militant group and that the United States wanted "no delays, no excuses." Earlier in the day he had told Israeli officials that "the time is now" for an agreement.

The visit is Blinken's seventh to Israel since the war began in October. A large part of his effort is aimed at heading off an Israeli ground operation in Rafah, the city on Gaza's southern edge where some 1.5 million Palestinians have taken shelter, many of them after fleeing fighting elsewhere in the territory.

## What the proposal offers

The framework under discussion, brokered by the United States, Egypt and Qatar, would see a number of hostages released in return for six weeks without fighting, a window that negotiators would use to work toward a longer arrangement. Blinken has said Israel gave significant ground in shaping the offer and that Hamas turned down earlier versions.

An agreement would also open the way for more food, medicine and clean water to enter Gaza, where months of war have driven most residents from their homes and left many short of basic supplies.

The core disagreement is over how the war ends. Hamas is seeking a commitment that the Israeli offensive will stop for good and that Israeli forces will leave Gaza entirely once the hostages are out. Israel has put forward only a longer pause and has said it could resume military operations afterwards.

An Egyptian official said Hamas had asked the mediators for more detail on two points: the return of displaced people to their homes and the timetable for a staged Israeli withdrawal. The request suggests a formal answer could take longer than Washington had hoped.

## Rafah remains a flashpoint

Israeli Prime Minister Benjamin Netanyahu has restated his plan to send troops into Rafah, which Israel regards as a key Hamas stronghold, despite appeals from foreign governments to hold back.

The United States has supported Israel since Hamas's Oct. 7 attack on southern Israel triggered the war, but it has become increasingly outspoken about the toll on civilians in Gaza and has cautioned against a major assault on Rafah.

During his stay, Blinken met relatives of American hostages and stopped to talk with protesters gathered outside his hotel to demand the captives' release. He told them that bringing the hostages home was at the centre of the U.S. effort.

Blinken's regional trip took him to Saudi Arabia and Jordan before Israel. At both stops he urged Hamas to take up what he called a generous Israeli offer. The State Department said he would also tour an Israeli port now being used to move aid into Gaza.

*This article was updated with an Egyptian official's account of Hamas's request for clarification.*
`;

export const demoArticles: DemoArticle[] = [
  {
    slug: 'blinken-meets-herzog-ceasefire-push',
    title: 'Blinken presses for hostage deal in Tel Aviv talks with Herzog',
    standfirst:
      "The U.S. secretary of state said a ceasefire offer is on the table and blamed Hamas for any delay, as mediators wait for the group's answer and Israel holds to its plans for Rafah.",
    bodyMarkdown: leadBody,
    authorSlugs: ['noa-ben-ami'],
    tagSlugs: ['diplomacy', 'israel', 'gaza'],
    hoursAgo: 3,
    updatedHoursAgo: 1,
    video: {
      file: 'blinken-herzog-snippet.mp4',
      poster: 'blinken-herzog-snippet.jpg',
      captions: 'blinken-herzog-snippet.en.vtt',
      caption: 'Video snippet from the meeting between Blinken and Pres. Herzog',
      description:
        "Short clip accompanying our report on Secretary of State Antony Blinken's meeting with President Isaac Herzog in Tel Aviv. Demo footage: an animated test pattern with a quiet tone.",
      durationSeconds: 6,
      width: 640,
      height: 360,
    },
  },
  {
    slug: 'startups-adapt-to-long-absences',
    title: 'Small tech firms rework the office as staff serve long stints in the reserves',
    standfirst:
      "Founders say the lesson of the past months is simple: no piece of work should live in only one person's head.",
    bodyMarkdown: `When a third of a team can be called away at short notice, a product roadmap starts to look like a wish list. Founders of small software companies around Tel Aviv describe a year spent rebuilding how work is shared, rather than how much of it gets done.

The changes are rarely dramatic. Teams write things down. Code reviews that used to be a formality now double as handovers, and every critical system gets at least two people who know how to restart it at three in the morning. Some firms have moved from fixed sprints to shorter cycles that can be paused without losing the thread.

Customers abroad have, on the whole, been patient, managers say, though few want to test that patience for long. Several companies have leaned on freelancers and partners overseas to cover gaps, while keeping core design decisions at home.

There is also the human side. Returning reservists come back to changed priorities and colleagues who covered for them, and managers say the first week back matters more than any process document. The firms that have coped best, they argue, treat resilience as a habit rather than an emergency plan.`,
    authorSlugs: ['eitan-marcus'],
    tagSlugs: ['economy', 'israel'],
    hoursAgo: 6,
    image: {
      file: 'startups-adapt-to-long-absences.jpg',
      alt: 'Abstract slate-blue pattern of small interlocking triangles.',
      width: 1200,
      height: 675,
    },
  },
  {
    slug: 'gaza-aid-corridor-explainer',
    title: 'Explainer: how aid reaches Gaza, and why it moves slowly',
    standfirst:
      'Trucks, ships and checkpoints: a short guide to the routes humanitarian supplies take and the places where they stall.',
    bodyMarkdown: `Any ceasefire agreement now being negotiated is expected to include a larger flow of humanitarian supplies into Gaza. Here is how that flow works, and where it tends to get stuck.

## The routes

Most aid travels by road. Convoys are loaded outside the territory, inspected, and then driven through a small number of crossing points before being handed to aid agencies for distribution. Sea deliveries have been added through ports in the region, including an Israeli port that U.S. officials say is being used as a channel for supplies.

## The bottlenecks

Each stage adds time. Inspections are meant to keep out anything that could be used for fighting, but queues form quickly when capacity is limited. Inside Gaza, damaged roads, fuel shortages and the security of convoys all affect how far supplies travel once they cross.

## What a pause would change

Aid groups say a halt to fighting matters as much as the number of trucks. Without active combat, distribution teams can reach more neighbourhoods, repair water systems and plan deliveries days ahead instead of hours.

The central question for any deal is whether a temporary pause would last long enough for those improvements to take hold.`,
    authorSlugs: ['noa-ben-ami'],
    tagSlugs: ['humanitarian-aid', 'gaza'],
    hoursAgo: 18,
    updatedHoursAgo: 7,
    image: {
      file: 'gaza-aid-corridor-explainer.jpg',
      alt: 'Abstract illustration of a pale route with evenly spaced waypoints crossing a sand-coloured landscape.',
      width: 1200,
      height: 675,
    },
  },
  {
    slug: 'tel-aviv-galleries-stay-open-late',
    title: 'In Tel Aviv, small galleries keep the lights on late',
    standfirst:
      'Independent art spaces are stretching their evening hours, and visitors say they come for the company as much as the work.',
    bodyMarkdown: `On a weeknight in south Tel Aviv, a storefront gallery that would once have closed at seven is still full at ten. Visitors drift between a wall of small prints and a table of tea and biscuits; a few have come straight from work, others from the beach.

Several independent spaces in the city have quietly extended their hours over the past months. Organisers describe the change as a response to what visitors were asking for: somewhere to be with other people that is neither a bar nor a news broadcast.

The programmes are modest. There are group shows of local artists, readings, an occasional acoustic set in a courtyard. Entry is usually free, with a jar by the door. Few of the spaces expect to make money from the late nights, but they report new faces, including people who had never set foot in a gallery before.

Whether the habit outlasts the moment is an open question. For now, the late openings have become a small, steady ritual, and a reminder that culture is often where a city goes to catch its breath.`,
    authorSlugs: ['eitan-marcus'],
    tagSlugs: ['culture', 'israel'],
    hoursAgo: 31,
    image: {
      file: 'tel-aviv-galleries-stay-open-late.jpg',
      alt: 'Abstract print in muted sand, sage and rose tones with an intricate spiral pattern.',
      width: 1200,
      height: 675,
    },
  },
  {
    slug: 'analysis-mediators-patience',
    title: 'Analysis: Mediation runs on patience, not deadlines',
    standfirst:
      'The current talks show why agreements between bitter enemies are built in stages, and why the stages are where they most often break.',
    bodyMarkdown: `Shuttle diplomacy rarely looks like progress. An envoy lands, meets leaders, issues a statement that sounds much like the last one, and flies on. Yet the slow rhythm is the method, not a failure of it.

Mediators such as the United States, Egypt and Qatar cannot impose terms. What they can do is carry proposals between parties who will not sit in the same room, test which words each side can live with, and keep both engaged when talks stall. Public appeals to act quickly serve a purpose, but the real work happens in the drafting.

That is why phased agreements are so common. A first stage, such as a limited pause in exchange for the release of some captives, lets each side bank a gain without conceding the question it cares about most. The hardest issue, how the conflict finally ends, is pushed to later rounds.

The risk is that ambiguity which makes a first stage possible can make the second impossible. Requests for clarification, often read as stalling, are sometimes a party trying to pin down exactly what it is being asked to give. Patient mediators treat them as part of the negotiation rather than a refusal of it.`,
    authorSlugs: ['noa-ben-ami'],
    tagSlugs: ['analysis', 'diplomacy'],
    hoursAgo: 55,
    image: {
      file: 'analysis-mediators-patience.jpg',
      alt: 'Three overlapping translucent circles in muted blue, clay and olive on a stone-coloured background.',
      width: 1200,
      height: 675,
    },
  },
];

export const demoLegalDocuments: DemoLegalDocument[] = [
  {
    kind: 'terms',
    title: 'Terms and conditions',
    bodyMarkdown: `These terms apply to your use of The Judean website and to our email newsletter. By using the site or subscribing to the newsletter, you accept them.

## Using the site

You may read, share links to and quote brief extracts from our articles for personal, non-commercial use, provided you credit The Judean and link to the original. Republishing full articles, photographs or video, or using automated tools to copy the site in bulk, requires our written permission.

Do not attempt to interfere with the operation of the site, gain access to areas that are not public, or use it for anything unlawful.

## Our journalism

We work to be accurate and fair. When we get something wrong we correct it and say so on the article. Our reporting is general information, not professional advice, and you should not rely on it as such.

Links to other websites are provided for convenience; we are not responsible for their content or practices.

## The newsletter

The newsletter is free. You subscribe by giving your email address, agreeing to these terms and our privacy policy, and confirming through the link we send you. You can unsubscribe at any time using the link in every email. We may change how often the newsletter is sent, or stop sending it, at any time.

## Liability

We provide the site and newsletter as they are. To the extent the law allows, we are not liable for losses arising from their use or from their being unavailable. Nothing in these terms limits rights you have that cannot be limited by law.

## Changes

We may update these terms. Each version carries a version number, and when you subscribe we record which version you accepted. If we make a significant change, we will tell newsletter subscribers before it takes effect.

## Contact

Questions about these terms can be sent to contact@thejudean.example.`,
  },
  {
    kind: 'privacy',
    title: 'Privacy policy',
    bodyMarkdown: `This policy explains what personal data The Judean collects, why, and what you can do about it. Questions and requests can be sent to privacy@thejudean.example.

## Reading the site

You can read The Judean without giving us any personal data. We do not use advertising networks, analytics services or any other third-party trackers, and we set no tracking or advertising cookies. Our servers keep short-lived technical logs needed to run and secure the site.

## Newsletter sign-up

When you subscribe, we store:

- your email address;
- a record of your consent: the versions of the terms and this privacy policy you agreed to, and the time you agreed;
- the IP address the request came from, where our configuration records it;
- your browser's user agent string.

We keep this record so that we can show when and how you agreed to receive the newsletter.

## Double opt-in

After you sign up we send one email with a confirmation link. Your subscription starts only when you follow that link, and we record the time of confirmation. If you do not confirm, we send you no newsletters.

## How we send email

Newsletters are delivered through an email service provider that acts on our instructions and may not use your address for any other purpose. We do not sell, rent or share subscriber lists.

## Unsubscribing and erasure

Every newsletter contains an unsubscribe link that takes effect immediately. You can also ask us to erase your data entirely by writing to privacy@thejudean.example; we will delete your email address and consent record, keeping only what the law requires us to retain to show we acted on your request.

## Your rights

Depending on where you live, you may have the right to access, correct or delete your data, to withdraw consent at any time, and to complain to a data protection authority. We will answer requests within one month.

## Changes

When this policy changes, we publish a new version with its own version number. Significant changes are announced to subscribers in advance.`,
  },
];
